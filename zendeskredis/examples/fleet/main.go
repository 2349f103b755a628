// Fleet measures what zendeskredis is for: R replicas of a service (each
// its own zendesk.Client and its own pool of goroutines) share one
// zendesktest account whose budgets are Zendesk's scaled down in time, and
// do mixed work: keyed Creates, keyed Replies and Lists. A share of the
// jobs is handed to two replicas at once, as an at-least-once queue does.
// Each configuration runs with every replica coordinated through Redis
// (zendeskredis) and with each replica on its own (the in-process
// coordinator).
//
//	REDIS_URL=redis://127.0.0.1:6390/0 go run ./examples/fleet              # R = 16, both modes
//	REDIS_URL=redis://127.0.0.1:6390/0 go run ./examples/fleet -matrix      # R = 1, 4, 8, 16, both modes, and the same-keys check
//	REDIS_URL=redis://127.0.0.1:6390/0 go run ./examples/fleet -limits      # with configured limits (WithLimits / WithRateLimit)
//
// It prints, per configuration, the calls made, the 429 answers received,
// the failures, the duplicates on the server, and the elapsed time against
// the theoretical minimum: the messages made ÷ the Create/Reply budget, or
// the requests processed ÷ the plan budget, whichever is longer.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sideconv/zendesk"
	"github.com/sideconv/zendesk/zendeskredis"
	"github.com/sideconv/zendesk/zendesktest"
)

// config is one fleet scenario.
type config struct {
	replicas int
	workers  int     // goroutines per replica
	jobs     int     // distinct jobs: creates, replies and lists
	twice    float64 // the share of jobs handed to two replicas
	tickets  int
	// budget: Create/Reply per window, and the plan per scaled minute
	createReply int
	plan        int
	window      time.Duration // the Create/Reply window, Zendesk's 10 minutes scaled
	withRedis   bool
	timeout     time.Duration // zendeskredis.WithTimeout; 0 keeps the default
	limits      bool          // configure the limits (WithLimits, or WithRateLimit without Redis)
	redisURL    string
	seed        uint64
}

// scale is the factor that turns Zendesk's windows into the scenario's.
func (c config) scale() float64 { return float64(c.window) / float64(10*time.Minute) }

// result is what a run measured.
type result struct {
	calls, completed, rateLimited, failures, duplicates int
	messages, processed                                 int
	elapsed, minimum                                    time.Duration
}

func main() {
	cfg := config{}
	flag.IntVar(&cfg.replicas, "replicas", 16, "replicas sharing the account (ignored with -matrix)")
	flag.IntVar(&cfg.workers, "workers", 4, "goroutines per replica")
	flag.IntVar(&cfg.jobs, "jobs", 750, "distinct jobs: 40% keyed Creates, 40% keyed Replies, 20% Lists")
	flag.Float64Var(&cfg.twice, "twice", 0.2, "share of the jobs handed to two replicas")
	flag.IntVar(&cfg.tickets, "tickets", 50, "tickets the jobs are spread over")
	flag.IntVar(&cfg.createReply, "create-reply", 300, "Create/Reply budget per window (Zendesk: 300 per 10 minutes)")
	flag.IntVar(&cfg.plan, "plan", 700, "plan budget per minute, scaled like the window (Zendesk: 200 to 2,500)")
	flag.DurationVar(&cfg.window, "window", 10*time.Second, "the Create/Reply window: Zendesk's 10 minutes scaled down")
	flag.DurationVar(&cfg.timeout, "redis-timeout", 0, "zendeskredis.WithTimeout (0: the default)")
	flag.BoolVar(&cfg.limits, "limits", false, "configure the limits: zendeskredis.WithLimits, or zendesk.WithRateLimit per replica")
	matrix := flag.Bool("matrix", false, "run R = 1, 4, 8, 16 and the same-keys check")
	mode := flag.String("mode", "both", "redis, local or both")
	same := flag.Int("same-keys", 100, "keyed Creates handed at once to every one of 16 replicas (0: skip; run with -matrix)")
	flag.Uint64Var(&cfg.seed, "seed", 1, "seed of the job mix")
	flag.Parse()
	cfg.redisURL = os.Getenv("REDIS_URL")

	var modes []bool
	switch *mode {
	case "both":
		modes = []bool{true, false}
	case "redis":
		modes = []bool{true}
	case "local":
		modes = []bool{false}
	default:
		fmt.Fprintln(os.Stderr, "fleet: -mode must be redis, local or both")
		os.Exit(2)
	}
	if modes[0] && cfg.redisURL == "" {
		fmt.Fprintln(os.Stderr, "fleet: REDIS_URL is not set. Start a throwaway Redis and point the run at it:\n"+
			"    redis-server --port 6390 --bind 127.0.0.1 --save '' --appendonly no --daemonize yes\n"+
			"    REDIS_URL=redis://127.0.0.1:6390/0 go run ./examples/fleet\n"+
			"or run without Redis only: go run ./examples/fleet -mode local")
		os.Exit(2)
	}
	sizes := []int{cfg.replicas}
	if *matrix {
		sizes = []int{1, 4, 8, 16}
	}
	if cfg.jobs == 0 {
		sizes = nil
	}
	ctx := context.Background()
	if len(sizes) > 0 {
		header(os.Stdout, cfg)
	}
	for _, r := range sizes {
		for _, withRedis := range modes {
			c := cfg
			c.replicas, c.withRedis = r, withRedis
			res, err := run(ctx, c)
			if err != nil {
				fmt.Fprintln(os.Stderr, "fleet:", err)
				os.Exit(1)
			}
			row(os.Stdout, c, res)
		}
	}
	if *matrix && *same > 0 {
		fmt.Fprintln(os.Stdout)
		for _, withRedis := range modes {
			c := cfg
			c.replicas, c.withRedis = 16, withRedis
			res, err := sameKeys(ctx, c, *same)
			if err != nil {
				fmt.Fprintln(os.Stderr, "fleet:", err)
				os.Exit(1)
			}
			fmt.Fprintf(os.Stdout, "same keys, %s: %d replicas × %d keyed Creates at once (%d calls): %d conversations, %d failures, %d 429 answers, %s\n",
				modeName(c), c.replicas, *same, res.calls, res.messages, res.failures, res.rateLimited, res.elapsed.Round(10*time.Millisecond))
		}
	}
}

// job is one unit of work. Its key makes a Create or Reply idempotent.
type job struct {
	kind   string // "create", "reply", "list"
	ticket int64
	key    string
}

// jobs returns the scenario's work, the same for every run of a seed.
func (c config) jobList() []job {
	rng := rand.New(rand.NewPCG(c.seed, 2)) //nolint:gosec // a reproducible mix, not a secret
	out := make([]job, c.jobs)
	for i := range out {
		t := int64(1 + rng.IntN(c.tickets))
		key := "job-" + strconv.Itoa(i)
		switch p := rng.Float64(); {
		case p < 0.4:
			out[i] = job{kind: "create", ticket: t, key: key}
		case p < 0.8:
			out[i] = job{kind: "reply", ticket: t, key: key}
		default:
			out[i] = job{kind: "list", ticket: t}
		}
	}
	return out
}

// logger reports the coordinators' warnings.
var logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

// replica is one replica's client and what it counted.
type replica struct {
	client      *zendesk.Client
	rateLimited *atomic.Int64
	close       func()
}

// fleet builds the replicas of c against srv.
func fleet(c config, srv *zendesktest.Server, namespace string) ([]replica, error) {
	limits := zendesk.RateLimits{CreateReply: c.createReply, CreateReplyWindow: c.window}
	out := make([]replica, 0, c.replicas)
	for range c.replicas {
		var rateLimited atomic.Int64
		opts := []zendesk.Option{zendesk.WithRetryPolicy(zendesk.RetryPolicy{
			MaxRetries: 10,
			OnRetry: func(info zendesk.RetryInfo) {
				if info.StatusCode == 429 {
					rateLimited.Add(1)
				}
			},
		})}
		closeFn := func() {}
		if c.withRedis {
			ropt, err := redis.ParseURL(c.redisURL)
			if err != nil {
				return nil, fmt.Errorf("REDIS_URL: %w", err)
			}
			rdb := redis.NewClient(ropt)
			closeFn = func() { _ = rdb.Close() }
			// The coordinator's warnings (Redis did not answer in time)
			// go to stderr: a run without them never fell back.
			copts := []zendeskredis.Option{zendeskredis.WithNamespace(namespace), zendeskredis.WithLogger(logger)}
			if c.limits {
				copts = append(copts, zendeskredis.WithLimits(limits))
			}
			if c.timeout > 0 {
				copts = append(copts, zendeskredis.WithTimeout(c.timeout))
			}
			opts = append(opts, zendesk.WithCoordinator(zendeskredis.New(rdb, copts...)))
		} else if c.limits {
			opts = append(opts, zendesk.WithRateLimit(limits))
		}
		client := srv.Client(opts...)
		if client == nil {
			return nil, errors.New("could not build a client")
		}
		out = append(out, replica{client: client, rateLimited: &rateLimited, close: closeFn})
	}
	return out, nil
}

// newServer starts the fake account: its windows are Zendesk's scaled by
// c.scale(), with one conversation seeded per ticket for the replies.
func newServer(c config) *zendesktest.Server {
	tickets := make([]int64, c.tickets)
	for i := range tickets {
		tickets[i] = int64(i + 1)
	}
	srv := zendesktest.NewServer(
		zendesktest.WithTickets(tickets...),
		zendesktest.WithCreateReplyLimit(c.createReply, 10*time.Minute),
		zendesktest.WithRateLimit(c.plan),
		zendesktest.WithTimeScale(c.scale()),
	)
	for _, t := range tickets {
		srv.SeedConversation(t, zendesk.SideConversation{ID: seedID(t), Subject: "Ticket " + strconv.FormatInt(t, 10)})
	}
	return srv
}

func seedID(ticket int64) string { return "seed-" + strconv.FormatInt(ticket, 10) }

func message(j job) zendesk.Message {
	return zendesk.Message{
		Subject: "Job " + j.key,
		Body:    "Generated by the fleet example.",
		To:      []zendesk.Participant{zendesk.Email("someone@example.com")},
	}
}

func (r replica) do(ctx context.Context, j job) error {
	sc := r.client.SideConversations
	var err error
	switch j.kind {
	case "create":
		_, _, err = sc.Create(ctx, j.ticket, zendesk.CreateRequest{Message: message(j), IdempotencyKey: j.key})
	case "reply":
		_, _, err = sc.Reply(ctx, j.ticket, seedID(j.ticket), zendesk.ReplyRequest{Message: message(j), IdempotencyKey: j.key})
	default:
		_, _, err = sc.List(ctx, j.ticket, &zendesk.ListOptions{PerPage: 10})
	}
	return err
}

func run(ctx context.Context, c config) (result, error) {
	srv := newServer(c)
	defer srv.Close()
	replicas, err := fleet(c, srv, fmt.Sprintf("fleet:%d:%d", time.Now().UnixNano(), c.replicas))
	if err != nil {
		return result{}, err
	}
	defer func() {
		for _, r := range replicas {
			r.close()
		}
	}()

	// Hand out the jobs: each to one replica in turn, a share of them to
	// the next replica too (the same replica when there is one).
	queues := make([][]job, c.replicas)
	rng := rand.New(rand.NewPCG(c.seed, 3)) //nolint:gosec // a reproducible mix, not a secret
	calls := 0
	for i, j := range c.jobList() {
		queues[i%c.replicas] = append(queues[i%c.replicas], j)
		calls++
		if j.kind != "list" && rng.Float64() < c.twice {
			other := (i + 1) % c.replicas
			queues[other] = append(queues[other], j)
			calls++
		}
	}
	var completed, failures atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for i, r := range replicas {
		jobs := make(chan job, len(queues[i]))
		for _, j := range queues[i] {
			jobs <- j
		}
		close(jobs)
		for range c.workers {
			wg.Go(func() {
				for j := range jobs {
					if err := r.do(ctx, j); err != nil {
						failures.Add(1)
						firstErr.CompareAndSwap(nil, err.Error())
						continue
					}
					completed.Add(1)
				}
			})
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	if e := firstErr.Load(); e != nil {
		fmt.Fprintln(os.Stderr, "fleet: first failure:", e)
	}

	res := result{calls: calls, completed: int(completed.Load()), failures: int(failures.Load()), elapsed: elapsed}
	for _, r := range replicas {
		res.rateLimited += int(r.rateLimited.Load())
	}
	res.messages, res.duplicates = messages(srv, c.tickets)
	res.processed = len(srv.Requests()) - res.rateLimited
	crMin := time.Duration(float64(c.window) * float64(res.messages) / float64(c.createReply))
	planMin := time.Duration(float64(time.Minute) * c.scale() * float64(res.processed) / float64(c.plan))
	res.minimum = max(crMin, planMin)
	return res, nil
}

// messages counts the messages the jobs made on the server, and those
// beyond the first for one key.
func messages(srv *zendesktest.Server, tickets int) (made, duplicates int) {
	perKey := map[string]int{}
	for t := int64(1); t <= int64(tickets); t++ {
		for _, sc := range srv.SideConversations(t) {
			if k := sc.ExternalIDs["sideconv_idempotency_key"]; k != "" {
				perKey[k]++
			}
		}
		for _, ev := range srv.Events(t, seedID(t)) {
			if ev.Message != nil {
				if k := ev.Message.ExternalIDs["sideconv_idempotency_key"]; k != "" {
					perKey[k]++
				}
			}
		}
	}
	for _, n := range perKey {
		made += n
		duplicates += n - 1
	}
	return made, duplicates
}

// sameKeys hands the same n keyed Creates to every replica at once and
// counts the conversations made (in result.messages).
func sameKeys(ctx context.Context, c config, n int) (result, error) {
	srv := newServer(c)
	defer srv.Close()
	replicas, err := fleet(c, srv, fmt.Sprintf("fleet-same:%d", time.Now().UnixNano()))
	if err != nil {
		return result{}, err
	}
	defer func() {
		for _, r := range replicas {
			r.close()
		}
	}()
	var failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for _, r := range replicas {
		for i := range n {
			wg.Go(func() {
				j := job{kind: "create", ticket: int64(1 + i%c.tickets), key: "same-" + strconv.Itoa(i)}
				if err := r.do(ctx, j); err != nil {
					failed.Add(1)
				}
			})
		}
	}
	wg.Wait()
	res := result{calls: len(replicas) * n, failures: int(failed.Load()), elapsed: time.Since(start)}
	for _, r := range replicas {
		res.rateLimited += int(r.rateLimited.Load())
	}
	for t := int64(1); t <= int64(c.tickets); t++ {
		for _, sc := range srv.SideConversations(t) {
			if strings.HasPrefix(sc.ExternalIDs["sideconv_idempotency_key"], "same-") {
				res.messages++
			}
		}
	}
	return res, nil
}

func modeName(c config) string {
	if c.withRedis {
		return "zendeskredis"
	}
	return "in-process"
}

func header(out io.Writer, c config) {
	limits := "none configured (paced by Zendesk's answers)"
	if c.limits {
		limits = fmt.Sprintf("Create/Reply %d per %s configured", c.createReply, c.window)
	}
	fmt.Fprintf(out, "account: Create/Reply %d per %s, plan %d per %s (Zendesk's scaled ×%.4f); %d jobs (40%% keyed Create, 40%% keyed Reply, 20%% List), %.0f%% of Creates/Replies handed to two replicas; %d goroutines per replica; limits: %s\n\n",
		c.createReply, c.window, c.plan, time.Duration(float64(time.Minute)*c.scale()), c.scale(), c.jobs, 100*c.twice, c.workers, limits)
	fmt.Fprintln(out, "| coordinator | R | calls | completed | 429 answers | failures | duplicates | elapsed | minimum | elapsed ÷ minimum |")
	fmt.Fprintln(out, "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
}

func row(out io.Writer, c config, r result) {
	fmt.Fprintf(out, "| %s | %d | %d | %d | %d (%.1f%%) | %d | %d | %s | %s | %.3f |\n",
		modeName(c), c.replicas, r.calls, r.completed, r.rateLimited, 100*float64(r.rateLimited)/float64(r.calls),
		r.failures, r.duplicates, r.elapsed.Round(10*time.Millisecond), r.minimum.Round(10*time.Millisecond),
		float64(r.elapsed)/float64(r.minimum))
}
