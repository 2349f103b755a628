package zendeskredis_test

import (
	"context"
	"testing"
	"time"

	"github.com/sideconv/zendesk"
	"github.com/sideconv/zendesk/zendeskredis"
	"github.com/sideconv/zendesk/zendesktest"
)

// BenchmarkPaired runs each call through a client coordinated by
// zendeskredis (on the Redis in REDIS_URL) and through the same client
// with the in-process coordinator, alternately in one loop, so that both
// see the same machine at the same moment. redis-ns/call less local-ns/call
// is what coordination through Redis adds to a call.
func BenchmarkPaired(b *testing.B) {
	srv := zendesktest.NewServer()
	b.Cleanup(srv.Close)
	coord := zendeskredis.New(newRedis(b), zendeskredis.WithNamespace(namespace(b)))
	viaRedis := srv.Client(zendesk.WithCoordinator(coord))
	inProcess := srv.Client()
	ctx := context.Background()
	created, _, err := inProcess.SideConversations.Create(ctx, zendesktest.DefaultTicketID, createRequest(""))
	if err != nil {
		b.Fatal(err)
	}
	id := created.SideConversation.ID
	show := func(c *zendesk.Client) func(context.Context) error {
		return func(ctx context.Context) error {
			_, _, err := c.SideConversations.Show(ctx, zendesktest.DefaultTicketID, id, nil)
			return err
		}
	}
	create := func(c *zendesk.Client) func(context.Context) error {
		return func(ctx context.Context) error {
			_, _, err := c.SideConversations.Create(ctx, zendesktest.DefaultTicketID, createRequest(""))
			return err
		}
	}
	pairs := []struct {
		name             string
		redis, inProcess func(context.Context) error
	}{
		{"Show", show(viaRedis), show(inProcess)},
		{"Create", create(viaRedis), create(inProcess)},
	}
	for _, p := range pairs {
		b.Run(p.name, func(b *testing.B) {
			var viaRedis, local time.Duration
			n := 0
			timed := func(f func(context.Context) error) time.Duration {
				start := time.Now()
				if err := f(ctx); err != nil {
					b.Fatal(err)
				}
				return time.Since(start)
			}
			for b.Loop() {
				if n%2 == 0 {
					viaRedis += timed(p.redis)
					local += timed(p.inProcess)
				} else {
					local += timed(p.inProcess)
					viaRedis += timed(p.redis)
				}
				n++
			}
			b.ReportMetric(float64(viaRedis.Nanoseconds())/float64(n), "redis-ns/call")
			b.ReportMetric(float64(local.Nanoseconds())/float64(n), "local-ns/call")
			b.ReportMetric(float64((viaRedis-local).Nanoseconds())/float64(n), "added-ns/call")
		})
	}
}

// BenchmarkCoordinator measures one Admit and Done through zendeskredis
// beside the in-process coordinator, without HTTP.
func BenchmarkCoordinator(b *testing.B) {
	ctx := context.Background()
	at := attempt(zendesk.BudgetCreateReply, time.Minute)
	ans := zendesk.Answer{Status: 201, Rate: zendesk.RateLimit{Limit: 1 << 30, Remaining: 1 << 30, Reset: time.Hour}}
	local, err := zendesk.NewLocalCoordinator(zendesk.RateLimits{})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		coord zendesk.Coordinator
	}{
		{"redis", zendeskredis.New(newRedis(b), zendeskredis.WithNamespace(namespace(b)))},
		{"local", local},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.coord.Admit(ctx, at); err != nil {
					b.Fatal(err)
				}
				c.coord.Done(ctx, at, ans)
			}
		})
	}
}
