package zendesktest

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"sync"
	"testing"
	"time"

	zendesk "github.com/sideconv/zendesk"
)

// Defaults of the server's configuration.
const (
	// DefaultEmail and DefaultAPIToken are the API-token credentials a
	// server accepts unless WithCredentials says otherwise.
	DefaultEmail    = "agent@example.com"
	DefaultAPIToken = "zendesktest-token"
	// DefaultTicketID is the one ticket a server knows unless WithTickets
	// says otherwise.
	DefaultTicketID int64 = 1
	// DefaultIncrementalPageSize is the number of events per page of the
	// incremental export, as in Zendesk.
	DefaultIncrementalPageSize = 1000

	// AgentUserID and AgentName identify the agent the credentials belong
	// to: the actor of every event made through the API, and the sender of
	// every message that names none. Its e-mail address is the credential
	// e-mail.
	AgentUserID int64 = 1
	AgentName         = "Zendesktest Agent"

	// FirstChildTicketID is the id given to the first child ticket a
	// child-ticket side conversation creates; later ones count up, and
	// skip past every child ticket a seeded conversation names
	// (external_ids.targetTicketId).
	FirstChildTicketID int64 = 10001
)

// Option configures a Server in NewServer and Start. Options never fail: a
// value out of range falls back to the default, as each option documents.
type Option func(*config)

type config struct {
	email, token string
	bearer       string

	tickets    []int64
	ticketsSet bool

	now func() time.Time

	planLimit        int
	createReplyLimit int
	createReplyWin   time.Duration
	timeScale        float64

	incrementalPageSize int

	// replyEvent and eventLinks turn on answers beyond the reference's
	// examples (WithReplyEvent, WithEventTicketIDAndURL).
	replyEvent bool
	eventLinks bool

	// rateClock measures the rate-limit windows. It is the real clock
	// (monotonic) by default; the package's own tests replace it.
	rateClock func() time.Time
}

// WithCredentials sets the e-mail address and API token the server accepts
// as "Authorization: Basic base64({email}/token:{apiToken})" (defaults
// DefaultEmail and DefaultAPIToken). The e-mail address is compared without
// regard to case, the token exactly. Server.Credentials returns them.
func WithCredentials(email, apiToken string) Option {
	return func(c *config) { c.email, c.token = email, apiToken }
}

// WithBearerToken makes the server also accept "Authorization: Bearer
// {token}", as sent by zendesk.BearerToken and zendesk.OAuth. An empty token
// accepts no bearer token (the default).
func WithBearerToken(token string) Option {
	return func(c *config) { c.bearer = token }
}

// WithTickets sets the tickets that exist. Requests for side conversations
// of any other ticket answer 404 RecordNotFound, as Zendesk does. Without
// this option only ticket 1 (DefaultTicketID) exists; with it, only the
// tickets it names (several WithTickets add up). Seed, SeedConversation and
// AddTicket register more tickets later.
func WithTickets(ids ...int64) Option {
	return func(c *config) {
		c.tickets = append(c.tickets, ids...)
		c.ticketsSet = true
	}
}

// WithClock sets the clock behind created_at, updated_at and the other
// times the server stamps (default time.Now). Times are stored in UTC and
// truncated to milliseconds, as Zendesk does. The rate-limit windows follow
// the real clock regardless (see WithRateClock). A nil clock keeps the
// default.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.now = now
		}
	}
}

// WithRateClock sets the clock the rate-limit windows follow (default the
// real, monotonic clock), so that a test can cross a window's end without
// waiting for it: move the clock in the client's RetryPolicy.Wait, say, and
// a 429's Retry-After ends exactly when the client has waited it. The
// windows start at the clock's reading when the server starts. A nil clock
// keeps the default.
func WithRateClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.rateClock = now
		}
	}
}

// WithRateLimit sets the plan-wide budget: perMinute requests per
// one-minute window, counted over every request, unauthenticated ones
// included (Zendesk's plans allow 200 to 2500). A request over budget is
// answered 429 with Retry-After and not processed. Requests answered by a
// FaultStatus, FaultHTMLBody or FaultDropBeforeProcessing never reach the
// budget. 0 (the default) or a negative value turns the limit off.
func WithRateLimit(perMinute int) Option {
	return func(c *config) { c.planLimit = max(perMinute, 0) }
}

// WithCreateReplyLimit sets the budget shared by Create and Reply requests:
// n per window (Zendesk allows 300 per 10 minutes). It applies besides the
// plan-wide budget. 0 (the default), a negative n or a window that is not
// positive turns it off.
func WithCreateReplyLimit(n int, window time.Duration) Option {
	return func(c *config) {
		if n <= 0 || window <= 0 {
			c.createReplyLimit, c.createReplyWin = 0, 0
			return
		}
		c.createReplyLimit, c.createReplyWin = n, window
	}
}

// WithTimeScale multiplies the length of every rate-limit window by f, so
// that tests need not wait for real minutes: 0.01 turns a 10-minute window
// into 6 seconds. Retry-After and ratelimit-reset report the scaled
// seconds. The default is 1; a value that is not positive keeps it.
func WithTimeScale(f float64) Option {
	return func(c *config) {
		if f > 0 {
			c.timeScale = f
		}
	}
}

// WithIncrementalPageSize sets how many events one page of the incremental
// export holds (default DefaultIncrementalPageSize, as in Zendesk). A value
// that is not positive keeps the default.
func WithIncrementalPageSize(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.incrementalPageSize = n
		}
	}
}

// WithReplyEvent makes Reply answer {"side_conversation", "event",
// "updates"}, as Create does, instead of the {"side_conversation"} the
// reference documents (the default). Use it to test code that reads the
// reply's event from the answer when Zendesk sends one; code that must work
// against Zendesk as documented should not rely on it.
func WithReplyEvent() Option {
	return func(c *config) { c.replyEvent = true }
}

// WithEventTicketIDAndURL adds ticket_id (null for none) and url, the API
// URL of the event, to every event the server writes: in the answers of
// Create, the imports and Reply (with WithReplyEvent), the event lists, the
// sideloaded events and the incremental export. Zendesk's event reference
// lists both properties, but the reference's example event has neither, so
// by default they are left out.
func WithEventTicketIDAndURL() Option {
	return func(c *config) { c.eventLinks = true }
}

// RecordedRequest is one request that reached the server, whatever the
// answer was (including requests answered by an injected fault).
type RecordedRequest struct {
	Method string
	// Path is the decoded URL path, such as
	// /api/v2/tickets/1/side_conversations.
	Path  string
	Query url.Values
	Body  []byte
	// Header holds the request headers without Authorization.
	Header http.Header
	// Authorized reports whether the request carried credentials the
	// server accepts.
	Authorized bool
}

// Server is an in-memory fake of the Zendesk side conversations API,
// listening on a loopback address. It is safe for concurrent use.
type Server struct {
	ts        *httptest.Server
	url       string
	cfg       config
	tb        testing.TB
	started   time.Time
	done      chan struct{} // closed, under mu, when Close begins
	closeOnce sync.Once
	late      sync.WaitGroup // FaultLateCommit processing still pending

	mu              sync.Mutex
	tickets         map[int64]bool
	convs           map[string]*conversation
	eventIDs        map[string]bool
	uploads         []*upload
	uploadsByID     map[string]*upload
	requests        []RecordedRequest
	sent            []zendesk.Event
	faults          []*queuedFault
	convSeq         int64
	eventSeq        int64
	uploadSeq       int64
	requestSeq      int64
	order           int64 // insertion order of events, the tie-breaker
	nextChildTicket int64
	plan            *budget
	createReply     *budget
}

// conversation is one stored side conversation and its events.
type conversation struct {
	sc     zendesk.SideConversation // Events stays nil; events holds them
	events []*storedEvent
}

type storedEvent struct {
	ev    zendesk.Event
	order int64
}

// upload is one file received by the attachments endpoint.
type upload struct {
	meta zendesk.UploadedAttachment
	data []byte
}

// NewServer starts a server on a loopback address. Close it when done, or
// use Start in tests.
func NewServer(opts ...Option) *Server {
	cfg := config{
		email:               DefaultEmail,
		token:               DefaultAPIToken,
		now:                 time.Now,
		timeScale:           1,
		incrementalPageSize: DefaultIncrementalPageSize,
		rateClock:           time.Now,
	}
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	if !cfg.ticketsSet {
		cfg.tickets = []int64{DefaultTicketID}
	}

	s := &Server{
		cfg:             cfg,
		done:            make(chan struct{}),
		tickets:         make(map[int64]bool),
		convs:           make(map[string]*conversation),
		eventIDs:        make(map[string]bool),
		uploadsByID:     make(map[string]*upload),
		nextChildTicket: FirstChildTicketID,
	}
	for _, id := range cfg.tickets {
		s.tickets[id] = true
	}
	if cfg.planLimit > 0 {
		s.plan = &budget{limit: cfg.planLimit, window: scaled(time.Minute, cfg.timeScale)}
	}
	if cfg.createReplyLimit > 0 {
		s.createReply = &budget{limit: cfg.createReplyLimit, window: scaled(cfg.createReplyWin, cfg.timeScale)}
	}

	ts := httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	// Hijacked connections and clients that go away are part of the
	// game here; keep the server's complaints about them off stderr.
	ts.Config.ErrorLog = log.New(io.Discard, "", 0)
	// Everything handlers read is set before the first request can come.
	s.ts = ts
	s.url = "http://" + ts.Listener.Addr().String()
	s.started = cfg.rateClock()
	ts.Start()
	return s
}

// Start starts a server for a test and closes it when the test ends. A
// Client call that fails reports the failure through tb.
func Start(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := NewServer(opts...)
	s.tb = tb
	tb.Cleanup(s.Close)
	return s
}

// URL returns the server's root, such as http://127.0.0.1:PORT, without a
// trailing slash and without /api/v2. Pass it to zendesk.WithBaseURL.
func (s *Server) URL() string { return s.url }

// Credentials returns API-token credentials the server accepts.
func (s *Server) Credentials() zendesk.Credentials {
	return zendesk.APIToken(s.cfg.email, s.cfg.token)
}

// Client returns a client for the server: zendesk.NewClient with
// Credentials and WithBaseURL(URL()), followed by opts, which can therefore
// override both. If NewClient fails (only a bad option can make it), Client
// returns nil; on a server made by Start it fails the test with tb.Fatalf
// instead, which, as testing requires, must then happen on the test's
// goroutine.
func (s *Server) Client(opts ...zendesk.Option) *zendesk.Client {
	all := append([]zendesk.Option{zendesk.WithBaseURL(s.URL())}, opts...)
	c, err := zendesk.NewClient("", s.Credentials(), all...)
	if err != nil {
		if s.tb != nil {
			s.tb.Helper()
			s.tb.Fatalf("zendesktest: creating a client: %v", err)
		}
		return nil
	}
	return c
}

// Close shuts the server down, ending any FaultDelay wait (the connection
// is cut), and blocks until the requests in progress have finished. The
// requests a FaultLateCommit answered and has not processed yet are never
// processed; Close does not wait for their Hold. It may be called more than
// once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		close(s.done)
		s.mu.Unlock()
		s.ts.Close()
		s.late.Wait()
	})
}

// AddTicket registers tickets that exist from now on.
func (s *Server) AddTicket(ids ...int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		s.tickets[id] = true
	}
}

// Requests returns the requests that reached the server, in the order they
// arrived.
func (s *Server) Requests() []RecordedRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]RecordedRequest, len(s.requests))
	for i, r := range s.requests {
		out[i] = RecordedRequest{
			Method:     r.Method,
			Path:       r.Path,
			Query:      cloneValues(r.Query),
			Body:       append([]byte(nil), r.Body...),
			Header:     r.Header.Clone(),
			Authorized: r.Authorized,
		}
	}
	return out
}

// ResetRequests forgets the recorded requests.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

// SideConversations returns the side conversations of a ticket as they are
// now, oldest first (by created_at, then id), each with its Events filled,
// oldest first, or nil when it has none. The values are copies.
func (s *Server) SideConversations(ticketID int64) []zendesk.SideConversation {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []zendesk.SideConversation
	for _, c := range s.conversationsOf(ticketID) {
		sc := cloneConversation(c.sc)
		sc.Events = c.sortedEvents()
		out = append(out, sc)
	}
	return out
}

// Events returns the events of a side conversation of a ticket, oldest
// first, or nil when there is no such conversation.
func (s *Server) Events(ticketID int64, id string) []zendesk.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.convs[id]
	if !ok || c.sc.TicketID != ticketID {
		return nil
	}
	return c.sortedEvents()
}

// SentMessages returns the create and reply events made through Create and
// Reply, in the order they were made: every message the server "sent" to
// people outside the ticket. Imported and seeded events are not in it. Use
// it to check that exactly one message went out.
func (s *Server) SentMessages() []zendesk.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]zendesk.Event, len(s.sent))
	for i, ev := range s.sent {
		out[i] = cloneEvent(ev)
	}
	return out
}

// Uploads returns the attachments uploaded so far, in order.
func (s *Server) Uploads() []zendesk.UploadedAttachment {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]zendesk.UploadedAttachment, len(s.uploads))
	for i, u := range s.uploads {
		out[i] = u.meta
	}
	return out
}

// conversationsOf returns the conversations of a ticket in list order:
// created_at ascending, then id. The caller holds s.mu.
func (s *Server) conversationsOf(ticketID int64) []*conversation {
	var out []*conversation
	for _, c := range s.convs {
		if c.sc.TicketID == ticketID {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].sc, out[j].sc
		if !a.CreatedAt.Equal(b.CreatedAt) {
			return a.CreatedAt.Before(b.CreatedAt)
		}
		return a.ID < b.ID
	})
	return out
}

// sortedEvents returns copies of the conversation's events, oldest first,
// in insertion order among equal times.
func (c *conversation) sortedEvents() []zendesk.Event {
	evs := make([]*storedEvent, len(c.events))
	copy(evs, c.events)
	sortStored(evs)
	out := make([]zendesk.Event, len(evs))
	for i, e := range evs {
		out[i] = cloneEvent(e.ev)
	}
	return out
}

func sortStored(evs []*storedEvent) {
	sort.SliceStable(evs, func(i, j int) bool {
		a, b := evs[i], evs[j]
		if !a.ev.CreatedAt.Equal(b.ev.CreatedAt) {
			return a.ev.CreatedAt.Before(b.ev.CreatedAt)
		}
		return a.order < b.order
	})
}

// now returns the server clock's time, in UTC, truncated to milliseconds.
func (s *Server) now() time.Time { return normTime(s.cfg.now()) }

func normTime(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// conversationURL is the API URL of a side conversation on this server.
func (s *Server) conversationURL(ticketID int64, id string) string {
	return s.url + "/api/v2/tickets/" + itoa(ticketID) + "/side_conversations/" + url.PathEscape(id)
}

// eventURL is the API URL of an event of a side conversation on this server.
func (s *Server) eventURL(ticketID int64, convID, id string) string {
	return s.conversationURL(ticketID, convID) + "/events/" + url.PathEscape(id)
}

// agent is the participant the credentials belong to.
func (s *Server) agent() zendesk.Participant {
	return zendesk.Participant{UserID: AgentUserID, Name: AgentName, Email: s.cfg.email}
}

// Deep copies, so that callers never share maps or slices with the state.

func cloneConversation(sc zendesk.SideConversation) zendesk.SideConversation {
	sc.Participants = append([]zendesk.Participant(nil), sc.Participants...)
	sc.ExternalIDs = cloneMap(sc.ExternalIDs)
	sc.Events = nil
	return sc
}

func cloneEvent(ev zendesk.Event) zendesk.Event {
	if ev.Message != nil {
		m := cloneMessage(*ev.Message)
		ev.Message = &m
	}
	return ev
}

func cloneMessage(m zendesk.Message) zendesk.Message {
	m.To = append([]zendesk.Participant(nil), m.To...)
	m.ExternalIDs = cloneMap(m.ExternalIDs)
	m.AttachmentIDs = append([]string(nil), m.AttachmentIDs...)
	m.Attachments = append([]zendesk.Attachment(nil), m.Attachments...)
	return m
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func cloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
