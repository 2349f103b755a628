package zendesk_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sideconv/zendesk"
	"github.com/sideconv/zendesk/zendesktest"
)

// The fault matrix runs every endpoint against every fault zendesktest can
// produce and checks, for each pair, the outcome the caller sees and what
// reached the server: how many requests, and how many side effects
// (conversations, messages, events, uploads). A logical call never makes
// more than one, and a refused one makes none. Run with -v for the table.
//
// Nothing in it waits on the clock: a slow answer is held by the server
// until the test lets it go, and the client's attempt "times out" when the
// server reports that it holds the answer.

// fault is one column of the matrix.
type fault struct {
	name string
	// inject queues the fault for method and path on srv; nil for the
	// dial fault, which the client's transport produces.
	inject func(srv *zendesktest.Server, method, path string)
	// dial makes the first attempt fail before anything is sent.
	dial bool
	// processed: the faulted attempt's request was applied by the server.
	processed bool
	// retried: the retry policy tries a POST again after this fault
	// (Zendesk certainly did not act on it).
	retriedPost bool
	// retriedIdempotent: the retry policy tries GET and PUT again.
	retriedIdempotent bool
	// attemptsWhenRetried is how many attempts a retried call takes.
	attemptsWhenRetried int
	// commitsLater: the faulted request is processed after the call
	// returned, when the test releases it.
	commitsLater bool
}

func statusFault(status int, retryAfter string, times int) func(*zendesktest.Server, string, string) {
	return func(srv *zendesktest.Server, method, path string) {
		srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultStatus, Method: method, Path: path, Status: status, RetryAfter: retryAfter, Times: times})
	}
}

func kindFault(kind zendesktest.FaultKind) func(*zendesktest.Server, string, string) {
	return func(srv *zendesktest.Server, method, path string) {
		srv.InjectFault(zendesktest.Fault{Kind: kind, Method: method, Path: path})
	}
}

var faults = []fault{
	{name: "429x3", inject: statusFault(429, "1", 3), retriedPost: true, retriedIdempotent: true, attemptsWhenRetried: 4},
	{name: "503+RA", inject: statusFault(503, "2", 1), retriedPost: true, retriedIdempotent: true, attemptsWhenRetried: 2},
	{name: "503", inject: statusFault(503, "", 1), retriedIdempotent: true, attemptsWhenRetried: 2},
	{name: "500", inject: statusFault(500, "", 1), retriedIdempotent: true, attemptsWhenRetried: 2},
	{name: "502", inject: statusFault(502, "", 1), retriedIdempotent: true, attemptsWhenRetried: 2},
	{name: "504", inject: statusFault(504, "", 1), retriedIdempotent: true, attemptsWhenRetried: 2},
	{name: "dial", dial: true, retriedPost: true, retriedIdempotent: true, attemptsWhenRetried: 2},
	{name: "lost-req", inject: kindFault(zendesktest.FaultDropBeforeProcessing), retriedIdempotent: true, attemptsWhenRetried: 2},
	{name: "lost-resp", inject: kindFault(zendesktest.FaultDropAfterProcessing), processed: true, retriedIdempotent: true, attemptsWhenRetried: 2},
	{name: "slow", processed: true, retriedIdempotent: true, attemptsWhenRetried: 2},
	{name: "late-commit", commitsLater: true, retriedIdempotent: true, attemptsWhenRetried: 2},
	{name: "truncated", inject: kindFault(zendesktest.FaultTruncatedBody), processed: true, retriedIdempotent: true, attemptsWhenRetried: 2},
	{name: "html-502", inject: kindFault(zendesktest.FaultHTMLBody), retriedIdempotent: true, attemptsWhenRetried: 2},
	{name: "empty-2xx", inject: kindFault(zendesktest.FaultEmptyBody), processed: true, retriedIdempotent: true, attemptsWhenRetried: 2},
	{name: "bad-types", inject: kindFault(zendesktest.FaultWrongTypes), processed: true},
}

// fixture is what a case starts from: a server with one conversation.
type fixture struct {
	srv    *zendesktest.Server
	client *zendesk.Client
	convID string
	// hold keeps the answers of "slow" and the processing of
	// "late-commit" back; applied hears when either took effect.
	hold    chan struct{}
	applied chan struct{}
}

// endpoint is one row of the matrix.
type endpoint struct {
	name   string
	method string
	path   string // fault path pattern
	keyed  bool
	// followUps are the requests a successful call makes after the one
	// the fault hits (the incremental export asks once more and finds
	// nothing new).
	followUps int
	call      func(ctx context.Context, f *fixture) error
	// effects counts the endpoint's side effects on the server.
	effects func(f *fixture) int
}

func countConversations(f *fixture) int { return len(f.srv.SideConversations(1)) }
func countSent(f *fixture) int          { return len(f.srv.SentMessages()) }
func countUploads(f *fixture) int       { return len(f.srv.Uploads()) }
func countEvents(f *fixture) int        { return len(f.srv.Events(1, f.convID)) }
func noEffects(*fixture) int            { return 0 }

var mail = zendesk.Message{Subject: "Printer", Body: "It is on fire.", To: []zendesk.Participant{zendesk.Email("someone@example.com")}}

func endpoints() []endpoint {
	const convs = "/api/v2/tickets/1/side_conversations"
	oneEvent := []zendesk.ImportEvent{{CreatedAt: time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC), Message: mail}}
	return []endpoint{
		{name: "List", method: "GET", path: convs, effects: noEffects, call: func(ctx context.Context, f *fixture) error {
			got, _, err := f.client.SideConversations.List(ctx, 1, &zendesk.ListOptions{IncludeEvents: true})
			if err == nil && (len(got) != 1 || len(got[0].Events) == 0) {
				return fmt.Errorf("wrong list: %+v", got)
			}
			return err
		}},
		{name: "ListIter", method: "GET", path: convs, effects: noEffects, call: func(ctx context.Context, f *fixture) error {
			n := 0
			for _, err := range f.client.SideConversations.ListIter(ctx, 1, nil) {
				if err != nil {
					return err
				}
				n++
			}
			if n != 1 {
				return fmt.Errorf("iterated %d", n)
			}
			return nil
		}},
		{name: "Show", method: "GET", path: convs + "/*", effects: noEffects, call: func(ctx context.Context, f *fixture) error {
			sc, _, err := f.client.SideConversations.Show(ctx, 1, f.convID, nil)
			if err == nil && sc.ID != f.convID {
				return fmt.Errorf("wrong conversation %q", sc.ID)
			}
			return err
		}},
		{name: "ListEvents", method: "GET", path: convs + "/*/events", effects: noEffects, call: func(ctx context.Context, f *fixture) error {
			evs, _, err := f.client.SideConversations.ListEvents(ctx, 1, f.convID, nil)
			if err == nil && len(evs) == 0 {
				return errors.New("no events")
			}
			return err
		}},
		{name: "Incremental", method: "GET", path: "/api/v2/tickets/side_conversations/events", followUps: 1, effects: noEffects, call: func(ctx context.Context, f *fixture) error {
			n := 0
			for _, err := range f.client.SideConversations.IncrementalEvents(ctx, time.Unix(0, 0)) {
				if err != nil {
					return err
				}
				n++
			}
			if n == 0 {
				return errors.New("no events")
			}
			return nil
		}},
		{name: "Update", method: "PUT", path: convs + "/*", effects: func(f *fixture) int { return countEvents(f) }, call: func(ctx context.Context, f *fixture) error {
			sc, _, err := f.client.SideConversations.Update(ctx, 1, f.convID, zendesk.UpdateRequest{State: zendesk.StateClosed})
			if err == nil && sc.State != zendesk.StateClosed {
				return fmt.Errorf("state %s", sc.State)
			}
			return err
		}},
		{name: "Create", method: "POST", path: convs, effects: countConversations, call: func(ctx context.Context, f *fixture) error {
			res, _, err := f.client.SideConversations.Create(ctx, 1, zendesk.CreateRequest{Message: mail})
			return checkResult(res, err)
		}},
		{name: "Create+key", method: "POST", path: convs, keyed: true, effects: countConversations, call: func(ctx context.Context, f *fixture) error {
			res, _, err := f.client.SideConversations.Create(ctx, 1, zendesk.CreateRequest{Message: mail, IdempotencyKey: "matrix-create"})
			return checkResult(res, err)
		}},
		{name: "Reply", method: "POST", path: convs + "/*/reply", effects: countSent, call: func(ctx context.Context, f *fixture) error {
			res, _, err := f.client.SideConversations.Reply(ctx, 1, f.convID, zendesk.ReplyRequest{Message: mail})
			return checkResult(res, err)
		}},
		{name: "Reply+key", method: "POST", path: convs + "/*/reply", keyed: true, effects: countSent, call: func(ctx context.Context, f *fixture) error {
			res, _, err := f.client.SideConversations.Reply(ctx, 1, f.convID, zendesk.ReplyRequest{Message: mail, IdempotencyKey: "matrix-reply"})
			return checkResult(res, err)
		}},
		{name: "Import", method: "POST", path: convs + "/import", effects: countConversations, call: func(ctx context.Context, f *fixture) error {
			res, _, err := f.client.SideConversations.Import(ctx, 1, zendesk.ImportRequest{
				SideConversation: zendesk.ImportedSideConversation{Subject: "Old thread"}, Events: oneEvent})
			return checkResult(res, err)
		}},
		{name: "ImportEvents", method: "POST", path: convs + "/*/events/import", effects: countEvents, call: func(ctx context.Context, f *fixture) error {
			res, _, err := f.client.SideConversations.ImportEvents(ctx, 1, f.convID, oneEvent)
			return checkResult(res, err)
		}},
		{name: "Upload", method: "POST", path: "/api/v2/tickets/side_conversations/attachments", effects: countUploads, call: func(ctx context.Context, f *fixture) error {
			up, _, err := f.client.SideConversations.UploadAttachment(ctx, "log.txt", strings.NewReader("smoke"))
			if err == nil && !strings.HasPrefix(up.ID, "s3-") {
				return fmt.Errorf("upload id %q", up.ID)
			}
			return err
		}},
	}
}

func checkResult(res *zendesk.SideConversationResult, err error) error {
	if err == nil && res.SideConversation.ID == "" {
		return errors.New("a result without a conversation")
	}
	return err
}

// outcome is what a case expects: ok, or an error of a kind; the side
// effects; the requests of the endpoint that reached the server.
type outcome struct {
	ok        bool
	maybeSent bool // the error matches ErrMaybeSent
	invalid   bool // the error matches ErrInvalidResponse
	effects   int
	requests  int
}

func (o outcome) String() string {
	switch {
	case o.ok:
		return fmt.Sprintf("ok %d/%d", o.effects, o.requests)
	case o.invalid && o.maybeSent:
		return fmt.Sprintf("bad+maybe %d/%d", o.effects, o.requests)
	case o.invalid:
		return fmt.Sprintf("bad %d/%d", o.effects, o.requests)
	case o.maybeSent:
		return fmt.Sprintf("maybe %d/%d", o.effects, o.requests)
	}
	return fmt.Sprintf("error %d/%d", o.effects, o.requests)
}

// expect derives the outcome of an endpoint under a fault from the rules
// of the retry policy and the idempotency keys.
func expect(e endpoint, f fault) outcome {
	makes := 1
	if e.method == "GET" {
		makes = 0
	}
	retried := f.retriedPost
	if e.method != "POST" {
		retried = f.retriedIdempotent
	}
	switch {
	case retried:
		// A refused dial never reached the server.
		return outcome{ok: true, effects: makes, requests: f.attemptsWhenRetried - boolInt(f.dial) + e.followUps}
	case e.keyed && f.processed:
		// The lookup after the failure finds what the attempt made.
		return outcome{ok: true, effects: 1, requests: 1}
	case e.keyed:
		// The lookup finds nothing: the message may still be made, so
		// the call says so and sends nothing more.
		return outcome{maybeSent: true, requests: 1}
	}
	o := outcome{requests: 1}
	if f.processed {
		o.effects = makes
	}
	switch f.name {
	case "truncated", "empty-2xx", "bad-types":
		o.invalid = true
		o.maybeSent = e.method == "POST"
	default:
		o.maybeSent = e.method == "POST"
	}
	return o
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// dialFailer fails the first request for one method and path pattern as if
// the connection had been refused: nothing reaches the server.
type dialFailer struct {
	next         http.RoundTripper
	method, path string
	mu           sync.Mutex
	failed       bool
}

func (d *dialFailer) RoundTrip(req *http.Request) (*http.Response, error) {
	d.mu.Lock()
	fail := !d.failed && d.path != "" && req.Method == d.method && pathMatches(d.path, req.URL.Path)
	if fail {
		d.failed = true
	}
	d.mu.Unlock()
	if fail {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	}
	return d.next.RoundTrip(req)
}

func pathMatches(pattern, path string) bool {
	p, s := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(p) != len(s) {
		return false
	}
	for i := range p {
		if p[i] != "*" && p[i] != s[i] {
			return false
		}
	}
	return true
}

// timeoutOnHold ends an attempt as a client timeout would, at the moment
// the server reports that it holds the attempt's answer back.
type timeoutOnHold struct {
	next    http.RoundTripper
	applied <-chan struct{}
}

// errAttemptTimeout is what the client sees of an attempt that timed out.
var errAttemptTimeout = errors.New("attempt timed out awaiting the answer")

func (h *timeoutOnHold) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	defer cancel(nil)
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-h.applied:
			cancel(errAttemptTimeout)
		case <-done:
		}
	}()
	resp, err := h.next.RoundTrip(req.WithContext(ctx))
	if cause := context.Cause(ctx); errors.Is(cause, errAttemptTimeout) {
		if resp != nil {
			_ = resp.Body.Close()
		}
		return nil, cause
	}
	return resp, err
}

// setup starts a server with one conversation (a create and a reply event)
// and a client whose retry waits are skipped and whose attempts time out
// when the server holds their answer back.
func setup(t *testing.T, dial *dialFailer) *fixture {
	t.Helper()
	srv := zendesktest.Start(t)
	hold, applied := make(chan struct{}), make(chan struct{}, 1)
	dial.next = &timeoutOnHold{next: http.DefaultTransport, applied: applied}
	client := srv.Client(
		zendesk.WithHTTPClient(&http.Client{Transport: dial}),
		zendesk.WithRetryPolicy(zendesk.RetryPolicy{Wait: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }}),
	)
	ctx := context.Background()
	res, _, err := client.SideConversations.Create(ctx, 1, zendesk.CreateRequest{Message: mail})
	require.NoError(t, err)
	_, _, err = client.SideConversations.Reply(ctx, 1, res.SideConversation.ID, zendesk.ReplyRequest{Message: mail})
	require.NoError(t, err)
	srv.ResetRequests()
	t.Cleanup(func() {
		select {
		case <-hold:
		default:
			close(hold)
		}
	})
	return &fixture{srv: srv, client: client, convID: res.SideConversation.ID, hold: hold, applied: applied}
}

func TestFaultMatrix(t *testing.T) {
	t.Parallel()
	eps := endpoints()
	var mu sync.Mutex
	table := map[string]map[string]string{}
	// Cleanup runs when every parallel case has finished.
	t.Cleanup(func() { t.Log("\n" + renderTable(eps, table)) })
	for _, e := range eps {
		for _, f := range faults {
			t.Run(e.name+"/"+f.name, func(t *testing.T) {
				t.Parallel()
				dial := &dialFailer{}
				fx := setup(t, dial)
				lateApplied := make(chan struct{}, 1)
				before := e.effects(fx)
				switch f.name {
				case "dial":
					dial.mu.Lock()
					dial.method, dial.path = e.method, e.path
					dial.mu.Unlock()
				case "slow":
					fx.srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultDelay, Method: e.method, Path: e.path, Hold: fx.hold, Applied: fx.applied})
				case "late-commit":
					// Applied reports the late processing, which the
					// client's transport must not take for a held answer.
					fx.srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultLateCommit, Method: e.method, Path: e.path, Hold: fx.hold, Applied: lateApplied})
				default:
					f.inject(fx.srv, e.method, e.path)
				}

				err := e.call(context.Background(), fx)

				got := outcome{
					ok:        err == nil,
					maybeSent: errors.Is(err, zendesk.ErrMaybeSent),
					invalid:   errors.Is(err, zendesk.ErrInvalidResponse),
					effects:   e.effects(fx) - before,
					requests:  countRequests(fx.srv, e.method, e.path),
				}
				want := expect(e, f)
				if e.name == "Update" && f.processed && !want.ok {
					want.effects = 1 // the update event
				}
				mu.Lock()
				if table[e.name] == nil {
					table[e.name] = map[string]string{}
				}
				table[e.name][f.name] = got.String()
				mu.Unlock()

				assert.LessOrEqual(t, got.effects, 1, "more than one side effect for one call")
				assert.Equal(t, want, got, "error: %v", err)
				if f.commitsLater {
					// Zendesk finishes the request after the call gave
					// up: still at most one side effect, and exactly
					// one for a message that was not resent.
					close(fx.hold)
					<-lateApplied
					after := e.effects(fx) - before
					assert.LessOrEqual(t, after, 1, "more than one side effect once the late request committed")
					if e.method == "POST" {
						assert.Equal(t, 1, after, "the late request made its message")
					}
				}
				if err != nil {
					assert.NotContains(t, err.Error(), zendesktest.DefaultAPIToken)
				}
			})
		}
	}
}

// countRequests counts the requests for method and path pattern that
// reached the server.
func countRequests(srv *zendesktest.Server, method, path string) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Method == method && pathMatches(path, r.Path) {
			n++
		}
	}
	return n
}

func renderTable(eps []endpoint, table map[string]map[string]string) string {
	var b strings.Builder
	b.WriteString("outcome effects/requests   ok: value returned; maybe: ErrMaybeSent; bad: ErrInvalidResponse\n")
	fmt.Fprintf(&b, "%-13s", "")
	for _, f := range faults {
		fmt.Fprintf(&b, " %-13s", f.name)
	}
	b.WriteByte('\n')
	for _, e := range eps {
		fmt.Fprintf(&b, "%-13s", e.name)
		for _, f := range faults {
			fmt.Fprintf(&b, " %-13s", table[e.name][f.name])
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// One client shared by 64 goroutines doing a few thousand mixed calls:
// under -race, no race, no lost result, every conversation accounted for.
func TestConcurrentMixedCalls(t *testing.T) {
	t.Parallel()
	const workers, perWorker = 64, 40
	srv := zendesktest.Start(t, zendesktest.WithTickets(1, 2, 3, 4))
	client := srv.Client(zendesk.WithRetryPolicy(zendesk.RetryPolicy{Wait: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }}))
	ctx := context.Background()

	var mu sync.Mutex
	created := map[string]int64{}
	var failures []error
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			ticket := int64(w%4 + 1)
			var mine []string
			for i := range perWorker {
				var err error
				switch i % 5 {
				case 0, 3:
					var res *zendesk.SideConversationResult
					res, _, err = client.SideConversations.Create(ctx, ticket, zendesk.CreateRequest{Message: mail,
						ExternalIDs: map[string]string{"worker": fmt.Sprint(w), "call": fmt.Sprint(i)}})
					if err == nil {
						mine = append(mine, res.SideConversation.ID)
						mu.Lock()
						created[res.SideConversation.ID] = ticket
						mu.Unlock()
					}
				case 1:
					if len(mine) > 0 {
						_, _, err = client.SideConversations.Reply(ctx, ticket, mine[len(mine)-1], zendesk.ReplyRequest{Message: mail})
					}
				case 2:
					_, _, err = client.SideConversations.List(ctx, ticket, &zendesk.ListOptions{PerPage: 100})
				case 4:
					if len(mine) > 0 {
						_, _, err = client.SideConversations.Update(ctx, ticket, mine[0], zendesk.UpdateRequest{Subject: fmt.Sprintf("w%d-%d", w, i)})
					}
				}
				if err != nil {
					mu.Lock()
					failures = append(failures, err)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	require.Empty(t, failures)

	onServer := map[string]int64{}
	for ticket := int64(1); ticket <= 4; ticket++ {
		for _, sc := range srv.SideConversations(ticket) {
			onServer[sc.ID] = ticket
		}
	}
	assert.Equal(t, created, onServer, "every conversation the callers got back exists on its ticket, and no other")
	assert.Len(t, created, workers*perWorker*2/5)
	replies := 0
	for _, ev := range srv.SentMessages() {
		if ev.Type == zendesk.EventReply {
			replies++
		}
	}
	assert.Equal(t, workers*perWorker/5, replies)

	// And every conversation is reachable through the iterator.
	var listed []string
	for ticket := int64(1); ticket <= 4; ticket++ {
		for sc, err := range client.SideConversations.ListIter(ctx, ticket, &zendesk.ListOptions{PerPage: 100}) {
			require.NoError(t, err)
			listed = append(listed, sc.ID)
		}
	}
	var want []string
	for id := range created {
		want = append(want, id)
	}
	sort.Strings(listed)
	sort.Strings(want)
	assert.Equal(t, want, listed)
}
