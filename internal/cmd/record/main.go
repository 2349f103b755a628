// Command record captures the side conversations of one ticket of a real
// Zendesk account as a go-vcr cassette: a YAML file of the account's own
// response shapes, scrubbed of credentials and personal data by
// zendesktest.VCR, that tests replay with a go-vcr recorder in
// recorder.ModeReplayOnly or load into httpmock with
// zendesktest.RegisterCassette.
//
// It makes read calls only, so it changes nothing in the account and sends
// no e-mail:
//
//   - List of the ticket's side conversations with their events
//     (include=events), every page;
//   - Show of each conversation with its events;
//   - ListEvents of each conversation, every page;
//   - with -since, the incremental export of the events of every ticket
//     from that time on (admins only; at most -max-events events).
//
// Usage:
//
//	export ZENDESK_SUBDOMAIN=acme ZENDESK_EMAIL=agent@acme.com ZENDESK_API_TOKEN=...
//	go run ./internal/cmd/record -ticket 123 -out testdata/cassettes/ticket-123.yaml
//
// ZENDESK_OAUTH_TOKEN may replace ZENDESK_EMAIL and ZENDESK_API_TOKEN. With
// -fake the calls go to an in-memory zendesktest server seeded with a few
// conversations instead, and no variable is needed:
//
//	go run ./internal/cmd/record -fake -per-page 2 -since 2025-01-01 -out /tmp/fake.yaml
//
// Flags:
//
//	-ticket N         the ticket to record (required unless -fake; 1 with -fake)
//	-out PATH         the cassette to write, ending in .yaml (default testdata/cassettes/ticket-N.yaml)
//	-per-page N       page size of the lists, 1 to 100 (default: Zendesk's)
//	-since TIME       also record the incremental export from TIME: RFC 3339,
//	                  a date (2025-01-31), Unix seconds, or a duration ago (72h)
//	-max-events N     stop the incremental export after N events (default 1000)
//	-scrub-host HOST  another host to replace by example.zendesk.com (repeatable);
//	                  the account's own host always is
//	-replace OLD=NEW  replace a string everywhere, such as a company name (repeatable)
//	-fake             record from an in-memory zendesktest server
//
// The scrubbing (zendesktest.Scrub) replaces every e-mail address with
// userN@example.com, the names of people with "Person N", secret-looking
// values with [REDACTED], and the account's host with example.zendesk.com;
// it never records the Authorization header. Subjects and message bodies
// are kept: read the file before committing it, and add a session that
// replays it to zendesktest/cassettes_test.go. Rate-limited (429) and
// server-error (5xx) answers that the client retried are left out of the
// cassette, so that replaying it never waits.
//
// One line per call goes to stdout; it names ids and counts, not content.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gopkg.in/dnaeon/go-vcr.v4/pkg/cassette"
	"gopkg.in/dnaeon/go-vcr.v4/pkg/recorder"

	zendesk "github.com/sideconv/zendesk"
	"github.com/sideconv/zendesk/zendesktest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil:
		fmt.Fprintln(os.Stderr, "record:", err)
		os.Exit(1)
	}
}

// options are the parsed flags.
type options struct {
	ticket     int64
	out        string
	perPage    int
	since      time.Time
	hasSince   bool
	maxEvents  int
	scrubHosts []string
	replace    [][2]string
	fake       bool
}

// run records a cassette as the flags in args say, reading the credentials
// through getenv, and writes a line per call to stdout. Usage and flag
// errors go to stderr.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	opts, err := parseFlags(args, stderr, time.Now())
	if err != nil {
		return err
	}

	scrub := []zendesktest.ScrubOption{zendesktest.ScrubHost(opts.scrubHosts...)}
	for _, r := range opts.replace {
		scrub = append(scrub, zendesktest.ScrubString(r[0], r[1]))
	}
	retried := &retriedAnswers{}
	rec, err := recorder.New(strings.TrimSuffix(opts.out, ".yaml"),
		zendesktest.VCR(scrub...),
		recorder.WithMode(recorder.ModeRecordOnly),
		recorder.WithHook(retried.leaveOut, recorder.BeforeSaveHook),
	)
	if err != nil {
		return err
	}
	counter := &countingTransport{next: rec}
	hc := &http.Client{Transport: counter, Timeout: 60 * time.Second}

	var client *zendesk.Client
	if opts.fake {
		srv, err := startFake(ctx, opts.ticket)
		if err != nil {
			return err
		}
		defer srv.Close()
		fmt.Fprintf(stdout, "Recording from the in-memory zendesktest server at %s, ticket %d\n", srv.URL(), opts.ticket)
		client, err = zendesk.NewClient("", srv.Credentials(), zendesk.WithBaseURL(srv.URL()), zendesk.WithHTTPClient(hc))
		if err != nil {
			return err
		}
	} else {
		sub, creds, err := credentialsFromEnv(getenv)
		if err != nil {
			return err
		}
		client, err = zendesk.NewClient(sub, creds, zendesk.WithHTTPClient(hc), zendesk.WithUserAgent("sideconv-record"))
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Recording from %s, ticket %d (read calls only)\n", client.BaseURL(), opts.ticket)
	}

	if err := recordCalls(ctx, client, opts, counter, stdout); err != nil {
		return err
	}
	if err := rec.Stop(); err != nil {
		return fmt.Errorf("saving %s: %w", opts.out, err)
	}
	note := ""
	if retried.left > 0 {
		note = fmt.Sprintf(" (left out %d retried 429/5xx answers)", retried.left)
	}
	fmt.Fprintf(stdout, "Saved %d interactions to %s%s; review it before committing\n", retried.kept, opts.out, note)
	return nil
}

func parseFlags(args []string, stderr io.Writer, now time.Time) (*options, error) {
	fs := flag.NewFlagSet("record", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./internal/cmd/record [-fake] -ticket N [-out PATH.yaml] [-per-page N] [-since TIME] [-max-events N] [-scrub-host HOST]... [-replace OLD=NEW]...")
		fmt.Fprintln(stderr, "Credentials come from ZENDESK_SUBDOMAIN with ZENDESK_EMAIL and ZENDESK_API_TOKEN, or ZENDESK_OAUTH_TOKEN.")
		fs.PrintDefaults()
	}
	var (
		o     options
		since string
	)
	fs.Int64Var(&o.ticket, "ticket", 0, "the ticket to record (required unless -fake; 1 with -fake)")
	fs.StringVar(&o.out, "out", "", "the cassette to write, ending in .yaml (default testdata/cassettes/ticket-N.yaml)")
	fs.IntVar(&o.perPage, "per-page", 0, "page size of the lists, 1 to 100 (default: Zendesk's)")
	fs.StringVar(&since, "since", "", "also record the incremental export from this time: RFC 3339, a date, Unix seconds, or a duration ago such as 72h")
	fs.IntVar(&o.maxEvents, "max-events", 1000, "stop the incremental export after this many events")
	fs.Func("scrub-host", "another host to replace by example.zendesk.com (repeatable)", func(v string) error {
		if strings.TrimSpace(v) == "" {
			return errors.New("empty host")
		}
		o.scrubHosts = append(o.scrubHosts, v)
		return nil
	})
	fs.Func("replace", "OLD=NEW: replace a string everywhere in the cassette (repeatable)", func(v string) error {
		old, repl, ok := strings.Cut(v, "=")
		if !ok || old == "" {
			return errors.New("want OLD=NEW")
		}
		o.replace = append(o.replace, [2]string{old, repl})
		return nil
	})
	fs.BoolVar(&o.fake, "fake", false, "record from an in-memory zendesktest server instead of Zendesk")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	switch {
	case o.ticket == 0 && o.fake:
		o.ticket = 1
	case o.ticket <= 0:
		return nil, errors.New("-ticket: a positive ticket id is required")
	}
	if o.perPage < 0 || o.perPage > zendesk.MaxPerPage {
		return nil, fmt.Errorf("-per-page: must be between 1 and %d", zendesk.MaxPerPage)
	}
	if o.maxEvents <= 0 {
		return nil, errors.New("-max-events: must be positive")
	}
	if since != "" {
		t, err := parseSince(since, now)
		if err != nil {
			return nil, fmt.Errorf("-since: %w", err)
		}
		o.since, o.hasSince = t, true
	}
	switch {
	case o.out == "":
		o.out = filepath.Join("testdata", "cassettes", "ticket-"+strconv.FormatInt(o.ticket, 10)+".yaml")
	case !strings.HasSuffix(o.out, ".yaml") || filepath.Base(o.out) == ".yaml":
		return nil, fmt.Errorf("-out: %q is not the name of a .yaml file, which go-vcr cassettes are", o.out)
	}
	return &o, nil
}

// parseSince reads an RFC 3339 time, a date, Unix seconds, or a duration
// before now.
func parseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
		return time.Unix(n, 0).UTC(), nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d).Truncate(time.Second), nil
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time, a date (2025-01-31), Unix seconds or a duration (72h)", s)
}

// credentialsFromEnv reads the account and its credentials.
func credentialsFromEnv(getenv func(string) string) (string, zendesk.Credentials, error) {
	sub := strings.TrimSpace(getenv("ZENDESK_SUBDOMAIN"))
	email, token, oauth := getenv("ZENDESK_EMAIL"), getenv("ZENDESK_API_TOKEN"), getenv("ZENDESK_OAUTH_TOKEN")
	if sub == "" {
		return "", nil, errors.New("set ZENDESK_SUBDOMAIN (acme for acme.zendesk.com) and ZENDESK_EMAIL with ZENDESK_API_TOKEN, or ZENDESK_OAUTH_TOKEN; or use -fake")
	}
	switch {
	case oauth != "":
		return sub, zendesk.BearerToken(oauth), nil
	case email != "" && token != "":
		return sub, zendesk.APIToken(email, token), nil
	}
	return "", nil, errors.New("set ZENDESK_EMAIL and ZENDESK_API_TOKEN, or ZENDESK_OAUTH_TOKEN")
}

// recordCalls makes the read calls, printing a line for each.
func recordCalls(ctx context.Context, client *zendesk.Client, opts *options, counter *countingTransport, stdout io.Writer) error {
	sc := client.SideConversations
	listOpts := &zendesk.ListOptions{PerPage: opts.perPage, IncludeEvents: true}

	before := counter.n.Load()
	var convs []zendesk.SideConversation
	events := 0
	for conv, err := range sc.ListIter(ctx, opts.ticket, listOpts) {
		if err != nil {
			return fmt.Errorf("listing the side conversations of ticket %d: %w", opts.ticket, err)
		}
		convs = append(convs, conv)
		events += len(conv.Events)
	}
	fmt.Fprintf(stdout, "List ticket %d (include=events): %d side conversations, %d events, %s\n",
		opts.ticket, len(convs), events, requests(counter.n.Load()-before))

	for _, conv := range convs {
		before = counter.n.Load()
		shown, _, err := sc.Show(ctx, opts.ticket, conv.ID, &zendesk.ShowOptions{IncludeEvents: true})
		if err != nil {
			return fmt.Errorf("showing side conversation %s: %w", conv.ID, err)
		}
		fmt.Fprintf(stdout, "Show %s (include=events): %s, %d events, %d participants, %s\n",
			conv.ID, shown.State, len(shown.Events), len(shown.Participants), requests(counter.n.Load()-before))

		before = counter.n.Load()
		n := 0
		types := map[zendesk.EventType]int{}
		for ev, err := range sc.ListEventsIter(ctx, opts.ticket, conv.ID, &zendesk.ListOptions{PerPage: opts.perPage}) {
			if err != nil {
				return fmt.Errorf("listing the events of side conversation %s: %w", conv.ID, err)
			}
			n++
			types[ev.Type]++
		}
		fmt.Fprintf(stdout, "ListEvents %s: %d events (%s), %s\n", conv.ID, n, typeCounts(types), requests(counter.n.Load()-before))
	}

	if opts.hasSince {
		before = counter.n.Load()
		n := 0
		for _, err := range sc.IncrementalEvents(ctx, opts.since) {
			if err != nil {
				return fmt.Errorf("exporting the events since %s (admins only): %w", opts.since.Format(time.RFC3339), err)
			}
			n++
			if n >= opts.maxEvents {
				break
			}
		}
		fmt.Fprintf(stdout, "IncrementalEvents since %s (start_time=%d): %d events, %s\n",
			opts.since.UTC().Format(time.RFC3339), opts.since.Unix(), n, requests(counter.n.Load()-before))
	}
	return nil
}

// retriedAnswers leaves out of the cassette the answers that the client
// retries (429 and 5xx), and counts what is kept.
type retriedAnswers struct {
	kept, left int
}

// leaveOut is a go-vcr BeforeSaveHook; go-vcr calls it for one interaction
// at a time.
func (r *retriedAnswers) leaveOut(i *cassette.Interaction) error {
	if c := i.Response.Code; c == http.StatusTooManyRequests || c >= 500 {
		i.DiscardOnSave = true
		r.left++
		return nil
	}
	r.kept++
	return nil
}

func requests(n int64) string {
	if n == 1 {
		return "1 request"
	}
	return strconv.FormatInt(n, 10) + " requests"
}

func typeCounts(types map[zendesk.EventType]int) string {
	if len(types) == 0 {
		return "none"
	}
	var parts []string
	for _, t := range []zendesk.EventType{zendesk.EventCreate, zendesk.EventReply, zendesk.EventUpdate, zendesk.EventAddEntity} {
		if n := types[t]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, t))
			delete(types, t)
		}
	}
	other := 0
	for _, n := range types {
		other += n
	}
	if other > 0 {
		parts = append(parts, fmt.Sprintf("%d other", other))
	}
	return strings.Join(parts, ", ")
}

// countingTransport counts the requests the client sends, retries
// included.
type countingTransport struct {
	next http.RoundTripper
	n    atomic.Int64
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(req)
}

// Fake account: the credentials, participants and clock of the in-memory
// server. The addresses are not at example.com, so that the cassette shows
// them scrubbed.
const (
	fakeEmail = "jane.doe@acme.test"
	fakeToken = "fake-api-token-0123456789" //nolint:gosec // accepted only by the in-memory server; the test checks it is scrubbed
)

// startFake starts a zendesktest server with a few conversations on the
// ticket: an e-mail thread with an attachment and two replies, a Slack thread
// that was closed, and a child ticket.
func startFake(ctx context.Context, ticket int64) (*zendesktest.Server, error) {
	var mu sync.Mutex
	clock := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	srv := zendesktest.NewServer(
		zendesktest.WithTickets(ticket),
		zendesktest.WithCredentials(fakeEmail, fakeToken),
		zendesktest.WithClock(func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			clock = clock.Add(time.Minute)
			return clock
		}),
	)
	if err := seedFake(ctx, srv, ticket); err != nil {
		srv.Close()
		return nil, fmt.Errorf("seeding the fake server: %w", err)
	}
	return srv, nil
}

func seedFake(ctx context.Context, srv *zendesktest.Server, ticket int64) error {
	c := srv.Client(zendesk.WithoutRetries())
	if c == nil {
		return errors.New("no client for the fake server")
	}
	sc := c.SideConversations
	up, _, err := sc.UploadAttachment(ctx, "invoice-1042.txt", strings.NewReader("Invoice 1042 for billing@partner.test: 99.00 EUR\n"))
	if err != nil {
		return err
	}
	email, _, err := sc.Create(ctx, ticket, zendesk.CreateRequest{Message: zendesk.Message{
		Subject:       "Invoice 1042 was charged twice",
		Body:          "Hello Sam, the customer says invoice 1042 was charged twice. Could you check? Jane",
		To:            []zendesk.Participant{zendesk.NamedEmail("sam.billing@partner.test", "Sam Billing")},
		AttachmentIDs: []string{up.ID},
	}})
	if err != nil {
		return err
	}
	for _, body := range []string{"Any news? The customer asked again.", "Thanks, the refund went out today."} {
		if _, _, err := sc.Reply(ctx, ticket, email.SideConversation.ID, zendesk.ReplyRequest{Message: zendesk.Message{
			Body: body,
			To:   []zendesk.Participant{zendesk.Email("sam.billing@partner.test")},
		}}); err != nil {
			return err
		}
	}
	slack, _, err := sc.Create(ctx, ticket, zendesk.CreateRequest{Message: zendesk.Message{
		Subject: "Refund approval",
		Body:    "Can someone approve a refund of 99 EUR?",
		To:      []zendesk.Participant{zendesk.SlackChannel("T0FAKE", "C0REFUNDS")},
	}})
	if err != nil {
		return err
	}
	if _, _, err := sc.Update(ctx, ticket, slack.SideConversation.ID, zendesk.UpdateRequest{State: zendesk.StateClosed}); err != nil {
		return err
	}
	_, _, err = sc.Create(ctx, ticket, zendesk.CreateRequest{Message: zendesk.Message{
		Subject: "Please check the payment gateway",
		Body:    "Two charges for one invoice; see the parent ticket.",
		To:      []zendesk.Participant{zendesk.SupportGroup(360001)},
	}})
	return err
}
