package zendesk

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-querystring/query"
)

// State is the state of a side conversation.
type State string

// The states a side conversation can be in.
const (
	StateOpen   State = "open"
	StateClosed State = "closed"
)

func (s State) valid() bool { return s == StateOpen || s == StateClosed }

// SideConversation is a thread attached to a ticket: an e-mail exchange, a
// Slack or Microsoft Teams channel, or a child ticket.
//
// Decoding is tolerant where Zendesk may differ from its examples: an
// external_ids value that is not a string keeps its JSON text (42 as "42",
// null as ""), a time may come in RFC 3339 or a common ISO 8601 variant (a
// space for the T, an offset without a colon, no zone, a date alone) and
// one that is no time at all, such as "", decodes as the zero time, and
// null stands for the zero value of any field. A value of a type the
// reference does not allow, such as a number for a subject, is still an
// error.
type SideConversation struct {
	ID           string            `json:"id"`
	TicketID     int64             `json:"ticket_id,omitempty"`
	Subject      string            `json:"subject,omitempty"`
	PreviewText  string            `json:"preview_text,omitempty"`
	URL          string            `json:"url,omitempty"`
	State        State             `json:"state,omitempty"`
	Participants []Participant     `json:"participants,omitempty"`
	ExternalIDs  map[string]string `json:"external_ids,omitempty"`

	CreatedAt      time.Time `json:"created_at,omitzero"`
	UpdatedAt      time.Time `json:"updated_at,omitzero"`
	MessageAddedAt time.Time `json:"message_added_at,omitzero"`
	StateUpdatedAt time.Time `json:"state_updated_at,omitzero"`

	// Events holds the conversation's events, oldest first, when they were
	// sideloaded (ListOptions.IncludeEvents, ShowOptions.IncludeEvents).
	Events []Event `json:"-"`
}

// childTicketKey is the external id under which Zendesk records the child
// ticket of a child-ticket side conversation.
const childTicketKey = "targetTicketId"

// ChildTicketID returns the id of the child ticket a child-ticket side
// conversation created (external_ids.targetTicketId), and false when there
// is none or it is not a number.
func (sc SideConversation) ChildTicketID() (int64, bool) {
	v, ok := sc.ExternalIDs[childTicketKey]
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || id <= 0 {
		return 0, false
	}
	return id, true
}

// SideConversationResult is the answer to Create, Reply, Import and
// ImportEvents: the conversation as it is now, the event the call made (when
// Zendesk sends it), and what changed.
//
// Zendesk documents Reply's answer as {"side_conversation": {...}} alone:
// after a Reply, Event and Updates are then empty (Event.ID == ""), and the
// conversation shows the reply's effect (MessageAddedAt, PreviewText,
// Participants). To get the reply's event, list the conversation's events
// (ListEvents, ListEventsIter): it is the latest reply event, or the one
// whose Message.ExternalIDs holds an id you gave the reply's message. A
// Reply with an IdempotencyKey that finds an earlier reply returns that
// reply's event. Create, Import and ImportEvents answer with the event.
type SideConversationResult struct {
	Event            Event            `json:"event"`
	SideConversation SideConversation `json:"side_conversation"`
	Updates          Updates          `json:"updates"`
}

// ListOptions selects a page of a list. Zendesk pages by offset: Page
// starts at 1 and PerPage is at most 100; 0 leaves either to Zendesk, whose
// default page size is 100. Zendesk refuses offsets past 10,000 records, so
// Validate refuses a page that would start there: past page 100 of 100
// records, which is also the limit when PerPage is 0.
type ListOptions struct {
	Page    int `url:"page,omitempty"`
	PerPage int `url:"per_page,omitempty"`
	// IncludeEvents sideloads each conversation's events (include=events)
	// into SideConversation.Events. ListEvents ignores it.
	IncludeEvents bool `url:"-"`
}

// MaxPerPage is the largest page Zendesk serves.
const MaxPerPage = 100

// defaultPerPage is the page size Zendesk uses when per_page is not sent
// (offset pagination's documented default).
const defaultPerPage = 100

// offsetLimit is the number of records past which Zendesk refuses offset
// pagination.
const offsetLimit = 10000

// Validate reports a negative page, or a page size outside 0..100, or a page
// that starts past Zendesk's 10,000-record offset limit, counting a PerPage
// of 0 as Zendesk's default of 100.
func (o *ListOptions) Validate() error {
	if o == nil {
		return nil
	}
	perPage := o.PerPage
	if perPage == 0 {
		perPage = defaultPerPage
	}
	switch {
	case o.Page < 0:
		return invalid("page", "must not be negative")
	case o.PerPage < 0 || o.PerPage > MaxPerPage:
		return invalidf("per_page", "must be between 1 and %d, not %d", MaxPerPage, o.PerPage)
	case o.Page > 1 && pastOffsetLimit(o.Page, perPage):
		size := strconv.Itoa(perPage)
		if o.PerPage == 0 {
			size += " (Zendesk's default page size)"
		}
		return invalidf("page", "page %d of %s starts past record %d: Zendesk refuses offset pagination beyond %d records",
			o.Page, size, offsetLimit, offsetLimit)
	}
	return nil
}

// pastOffsetLimit reports whether page (from 1) of perPage records starts at
// or past record offsetLimit: (page-1)·perPage >= offsetLimit, computed
// without overflow.
func pastOffsetLimit(page, perPage int) bool {
	return page-1 >= (offsetLimit+perPage-1)/perPage
}

func (o *ListOptions) values() (url.Values, error) {
	if o == nil {
		return nil, nil
	}
	v, err := query.Values(o)
	if err != nil {
		return nil, err
	}
	if o.IncludeEvents {
		v.Set("include", "events")
	}
	return v, nil
}

// ShowOptions selects what Show returns besides the conversation.
type ShowOptions struct {
	// IncludeEvents sideloads the conversation's events (include=events)
	// into SideConversation.Events.
	IncludeEvents bool
}

// CreateRequest is the body of Create.
type CreateRequest struct {
	// Message is the first message. Its To decides the side conversation's
	// type: e-mail, Slack, child ticket or Microsoft Teams.
	Message     Message           `json:"message"`
	ExternalIDs map[string]string `json:"external_ids,omitempty"`
	// IdempotencyKey, when set, makes Create safe to call again with the
	// same key: at most one conversation is made per key and ticket.
	//
	// The key and a fingerprint of the request (subject, bodies, sender,
	// recipients and external ids; not the attachment ids, which a retried
	// job may upload afresh) are stored in the conversation's external_ids
	// (sideconv_idempotency_key, sideconv_idempotency_fingerprint). Calls
	// with the same key run one after the other, across processes too when
	// they share a Coordinator. Before sending, Create looks the key up: it
	// lists the ticket's conversations, 100 per request and without
	// sideloaded events, until it finds the key, so a new key costs
	// ⌈n/100⌉ GET requests on a ticket with n conversations; a match costs
	// one more GET (the conversation with its events) and is returned with
	// Response.FoundByIdempotencyKey set, or fails with
	// ErrIdempotencyKeyReused when it was made for another request. After a
	// failure that may have reached Zendesk, Create looks once more and
	// returns what it finds; if it finds nothing, the call returns
	// ErrMaybeSent and sends nothing more, and later calls with the key do
	// the same until a lookup finds the message or the settle time
	// (WithSettleTime) has passed. docs/IDEMPOTENCY.md has the reasoning.
	IdempotencyKey string `json:"-"`
}

// Validate checks the request before anything is sent: at least one
// recipient, complete participants of one type, and the other rules
// Message.Validate lists.
func (r CreateRequest) Validate() error {
	if err := r.Message.validate("message", true); err != nil {
		return err
	}
	return validateIdempotencyKey(r.IdempotencyKey, r.ExternalIDs, "external_ids")
}

// MarshalJSON writes the request as Zendesk documents it: the message's
// writable fields only (see Message).
func (r CreateRequest) MarshalJSON() ([]byte, error) {
	return json.Marshal(r.requestBody())
}

// createBody is CreateRequest as it is sent.
type createBody struct {
	Message     messageRequest    `json:"message"`
	ExternalIDs map[string]string `json:"external_ids,omitempty"`
}

func (r CreateRequest) requestBody() any {
	return createBody{Message: r.Message.request(), ExternalIDs: r.ExternalIDs}
}

// ReplyRequest is the body of Reply.
type ReplyRequest struct {
	Message Message `json:"message"`
	// IdempotencyKey, when set, makes Reply safe to call again with the
	// same key: at most one reply is sent per key and side conversation. It
	// works as CreateRequest.IdempotencyKey does, with the key and the
	// fingerprint stored in the message's external_ids, and the lookup
	// listing the conversation's events, 100 per request, until it finds
	// the key (⌈n/100⌉ GET requests for n events), then fetching the
	// conversation (one more GET).
	IdempotencyKey string `json:"-"`
}

// Validate checks the request before anything is sent, by the rules
// Message.Validate lists. Recipients are optional: a reply without To goes
// to the conversation's participants.
func (r ReplyRequest) Validate() error {
	if err := r.Message.validate("message", false); err != nil {
		return err
	}
	return validateIdempotencyKey(r.IdempotencyKey, r.Message.ExternalIDs, "message.external_ids")
}

// MarshalJSON writes the request as Zendesk documents it: the message's
// writable fields only (see Message).
func (r ReplyRequest) MarshalJSON() ([]byte, error) {
	return json.Marshal(r.requestBody())
}

// replyBody is ReplyRequest as it is sent.
type replyBody struct {
	Message messageRequest `json:"message"`
}

func (r ReplyRequest) requestBody() any {
	return replyBody{Message: r.Message.request()}
}

// UpdateRequest is the body of Update: the writable properties of a side
// conversation. Every one is optional; empty fields are not sent, and what
// is not sent is left as it is.
type UpdateRequest struct {
	State   State  `json:"state,omitempty"`
	Subject string `json:"subject,omitempty"`
	// ExternalIDs sets the conversation's external_ids, which the reference
	// lists as writable. It does not say whether Zendesk merges them with
	// the conversation's keys or replaces them (zendesktest replaces them),
	// so send every key to keep, sideconv_idempotency_key included when the
	// conversation was created with an IdempotencyKey.
	ExternalIDs map[string]string `json:"external_ids,omitempty"`
}

// Validate checks that State, when set, is "open" or "closed", the values
// the reference gives ("Update Side Conversation"). An empty UpdateRequest
// is not refused: the reference makes every property optional ("All
// properties are optional") and documents no refusal of an update that
// names none, so it is sent, as {"side_conversation":{}}.
func (r UpdateRequest) Validate() error {
	if r.State != "" && !r.State.valid() {
		return invalidf("side_conversation.state", "must be %q or %q, not %q", StateOpen, StateClosed, r.State)
	}
	return nil
}

// ImportRequest is the body of Import: a side conversation that happened
// elsewhere, with its messages.
type ImportRequest struct {
	SideConversation ImportedSideConversation `json:"side_conversation"`
	Events           []ImportEvent            `json:"events"`
}

// ImportedSideConversation describes the imported conversation.
type ImportedSideConversation struct {
	Subject     string            `json:"subject,omitempty"`
	State       State             `json:"state,omitempty"`
	ExternalIDs map[string]string `json:"external_ids,omitempty"`
}

// ImportEvent is one historical message and when it was sent.
type ImportEvent struct {
	CreatedAt time.Time `json:"created_at"`
	Message   Message   `json:"message"`
}

// zendeskTimeLayout is how Zendesk writes times it is sent: UTC, milliseconds.
const zendeskTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// MarshalJSON writes CreatedAt the way Zendesk's own examples do, UTC with
// milliseconds, and the message's writable fields only (see Message).
func (e ImportEvent) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		CreatedAt string         `json:"created_at"`
		Message   messageRequest `json:"message"`
	}{e.CreatedAt.UTC().Format(zendeskTimeLayout), e.Message.request()})
}

// Validate checks the conversation's state ("open" or "closed", as the
// reference gives them for Update) and every event. Beyond the reference,
// this client asks for at least one event, each with its CreatedAt: an
// import keeps the times of messages that happened elsewhere, every import
// example of the reference carries created_at, and a zero time.Time would
// be sent as the year 1. Messages are checked as Message.Validate says;
// recipients are optional.
func (r ImportRequest) Validate() error {
	sc := r.SideConversation
	if sc.State != "" && !sc.State.valid() {
		return invalidf("side_conversation.state", "must be %q or %q, not %q", StateOpen, StateClosed, sc.State)
	}
	return validateImportEvents("events", r.Events)
}

func validateImportEvents(field string, events []ImportEvent) error {
	if len(events) == 0 {
		return invalid(field, "needs at least one event")
	}
	for i, ev := range events {
		name := field + "[" + strconv.Itoa(i) + "]"
		if ev.CreatedAt.IsZero() {
			return invalid(name+".created_at", "is required")
		}
		if err := ev.Message.validate(name+".message", false); err != nil {
			return err
		}
	}
	return nil
}

// The external ids under which an IdempotencyKey is stored, with the
// fingerprint of the request it was used for.
const (
	idempotencyKeyField = "sideconv_idempotency_key"
	fingerprintField    = "sideconv_idempotency_fingerprint"
)

func validateIdempotencyKey(key string, ids map[string]string, field string) error {
	if key == "" {
		return nil
	}
	if len(key) > 255 || strings.IndexFunc(key, unicode.IsControl) >= 0 || strings.TrimSpace(key) != key {
		return invalid("IdempotencyKey", "must be at most 255 characters without control characters or surrounding spaces")
	}
	if v, ok := ids[idempotencyKeyField]; ok && v != key {
		return invalidf(field+"."+idempotencyKeyField, "holds %q, which differs from IdempotencyKey", v)
	}
	if _, ok := ids[fingerprintField]; ok {
		return invalid(field+"."+fingerprintField, "is set by the client from the request; leave it out")
	}
	return nil
}

// Request envelopes.

type updateRoot struct {
	SideConversation UpdateRequest `json:"side_conversation"`
}

type importEventsRoot struct {
	Events []ImportEvent `json:"events"`
}

// Paths.

func checkTicketID(ticketID int64) error {
	if ticketID <= 0 {
		return invalidf("ticketID", "must be a positive ticket id, not %d", ticketID)
	}
	return nil
}

// checkConversationID refuses ids that could not be a side conversation id
// or could move the request path: Zendesk's ids are UUIDs, so an id must
// consist of characters a path segment carries without escaping (RFC 3986:
// letters, digits and - . _ ~ ! $ & ' ( ) * + , ; = : @), and must not be a
// dot segment. A "/", "\", "?", "#", "%", white space, a control or a
// non-ASCII character is refused rather than escaped and sent.
func checkConversationID(id string) error {
	switch id {
	case "":
		return invalid("id", "is empty")
	case ".", "..":
		return invalidf("id", "%q is a dot segment, not a side conversation id", id)
	}
	for i := 0; i < len(id); i++ {
		if !isPathChar(id[i]) {
			r, _ := utf8.DecodeRuneInString(id[i:])
			return invalidf("id", "%q contains %q at byte %d: a side conversation id holds only ASCII letters, "+
				"digits and - . _ ~ ! $ & ' ( ) * + , ; = : @", id, r, i)
		}
	}
	return nil
}

// isPathChar reports whether c is an RFC 3986 pchar other than a
// percent-encoding: unreserved, a sub-delim, ":" or "@".
func isPathChar(c byte) bool { return pathChars[c] }

// pathChars marks the bytes a path segment carries without escaping.
var pathChars = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range []byte("-._~!$&'()*+,;=:@") {
		t[c] = true
	}
	return t
}()

// conversationsURL is the URL of a ticket's side conversations, followed
// by suffix and query, built in one allocation where it can be.
func (c *Client) conversationsURL(ticketID int64, suffix string, query url.Values) string {
	return withQuery(c.apiRootStr+"tickets/"+strconv.FormatInt(ticketID, 10)+"/side_conversations"+suffix, query)
}

// conversationURL is the URL of one side conversation, followed by suffix
// and query.
func (c *Client) conversationURL(ticketID int64, id, suffix string, query url.Values) string {
	return withQuery(c.apiRootStr+"tickets/"+strconv.FormatInt(ticketID, 10)+"/side_conversations/"+url.PathEscape(id)+suffix, query)
}

func withQuery(u string, query url.Values) string {
	if len(query) > 0 {
		return u + "?" + query.Encode()
	}
	return u
}

// checkPath validates the ids every per-conversation method takes.
func checkPath(ticketID int64, id string) error {
	if err := checkTicketID(ticketID); err != nil {
		return err
	}
	return checkConversationID(id)
}

// Methods.

// List returns one page of the side conversations of a ticket. Follow
// Response.NextPage, or use ListIter to walk every page. With
// opts.IncludeEvents each conversation carries its events.
func (s *SideConversationsService) List(ctx context.Context, ticketID int64, opts *ListOptions) ([]SideConversation, *Response, error) {
	if err := checkTicketID(ticketID); err != nil {
		return nil, nil, err
	}
	if err := opts.Validate(); err != nil {
		return nil, nil, err
	}
	q, err := opts.values()
	if err != nil {
		return nil, nil, err
	}
	return s.listPage(ctx, &call{method: http.MethodGet, url: s.client.conversationsURL(ticketID, "", q)})
}

func (s *SideConversationsService) listPage(ctx context.Context, cl *call) ([]SideConversation, *Response, error) {
	var page pageAnswer
	resp, err := s.client.do(ctx, cl, &page)
	if err != nil {
		return nil, resp, offsetLimitError(cl, err)
	}
	resp.UnmatchedEvents = page.unmatched
	return page.conversations, resp, nil
}

// Show returns one side conversation. With opts.IncludeEvents it carries
// its events.
func (s *SideConversationsService) Show(ctx context.Context, ticketID int64, id string, opts *ShowOptions) (*SideConversation, *Response, error) {
	if err := checkPath(ticketID, id); err != nil {
		return nil, nil, err
	}
	var q url.Values
	if opts != nil && opts.IncludeEvents {
		q = url.Values{"include": {"events"}}
	}
	var one conversationAnswer
	resp, err := s.client.do(ctx, &call{method: http.MethodGet, url: s.client.conversationURL(ticketID, id, "", q)}, &one)
	if err != nil {
		return nil, resp, err
	}
	resp.UnmatchedEvents = one.unmatched
	return &one.conversation[0], resp, nil
}

// Create starts a side conversation on a ticket with its first message and
// returns the conversation and its create event. The request is validated
// first; nothing is sent if it is invalid.
//
// A failure after the request may have reached Zendesk is never retried
// blindly: it is returned matching ErrMaybeSent. With an IdempotencyKey,
// Create sends at most one message per key and ticket; see
// CreateRequest.IdempotencyKey for how, and what it costs.
// Response.FoundByIdempotencyKey tells a found result from a new one.
func (s *SideConversationsService) Create(ctx context.Context, ticketID int64, req CreateRequest) (*SideConversationResult, *Response, error) {
	if err := checkTicketID(ticketID); err != nil {
		return nil, nil, err
	}
	if err := req.Validate(); err != nil {
		return nil, nil, err
	}
	key := req.IdempotencyKey
	var k *keyedSend
	if key != "" {
		k = s.keyedCreate(ticketID, req)
		req.ExternalIDs = withKey(req.ExternalIDs, key, k.fingerprint)
	}
	cl, err := jsonCall(http.MethodPost, s.client.conversationsURL(ticketID, "", nil), req)
	if err != nil {
		return nil, nil, err
	}
	cl.budget = BudgetCreateReply
	if k == nil {
		return s.send(ctx, cl)
	}
	return s.sendKeyed(ctx, cl, k)
}

// Reply adds a message to a side conversation. Without To, the reply goes
// to the conversation's participants. Failures and the IdempotencyKey work
// as for Create; the key is looked for among the conversation's events (see
// ReplyRequest.IdempotencyKey).
//
// Zendesk documents the answer as the conversation alone, so the result's
// Event is empty unless Zendesk sends one. To get the reply's event, list
// the conversation's events (ListEvents); with an IdempotencyKey, it is the
// event whose message's external_ids hold the key.
func (s *SideConversationsService) Reply(ctx context.Context, ticketID int64, id string, req ReplyRequest) (*SideConversationResult, *Response, error) {
	if err := checkPath(ticketID, id); err != nil {
		return nil, nil, err
	}
	if err := req.Validate(); err != nil {
		return nil, nil, err
	}
	key := req.IdempotencyKey
	var k *keyedSend
	if key != "" {
		k = s.keyedReply(ticketID, id, req)
		req.Message.ExternalIDs = withKey(req.Message.ExternalIDs, key, k.fingerprint)
	}
	cl, err := jsonCall(http.MethodPost, s.client.conversationURL(ticketID, id, "/reply", nil), req)
	if err != nil {
		return nil, nil, err
	}
	cl.budget = BudgetCreateReply
	if k == nil {
		return s.send(ctx, cl)
	}
	return s.sendKeyed(ctx, cl, k)
}

// Update changes the state, subject or external ids of a side
// conversation, for example to close it.
func (s *SideConversationsService) Update(ctx context.Context, ticketID int64, id string, req UpdateRequest) (*SideConversation, *Response, error) {
	if err := checkPath(ticketID, id); err != nil {
		return nil, nil, err
	}
	if err := req.Validate(); err != nil {
		return nil, nil, err
	}
	cl, err := jsonCall(http.MethodPut, s.client.conversationURL(ticketID, id, "", nil), updateRoot{SideConversation: req})
	if err != nil {
		return nil, nil, err
	}
	var one conversationAnswer
	resp, err := s.client.do(ctx, cl, &one)
	if err != nil {
		return nil, resp, err
	}
	resp.UnmatchedEvents = one.unmatched
	return &one.conversation[0], resp, nil
}

// Import records a side conversation that happened elsewhere, keeping the
// given times. Nothing is delivered to the participants.
func (s *SideConversationsService) Import(ctx context.Context, ticketID int64, req ImportRequest) (*SideConversationResult, *Response, error) {
	if err := checkTicketID(ticketID); err != nil {
		return nil, nil, err
	}
	if err := req.Validate(); err != nil {
		return nil, nil, err
	}
	cl, err := jsonCall(http.MethodPost, s.client.conversationsURL(ticketID, "/import", nil), req)
	if err != nil {
		return nil, nil, err
	}
	return s.send(ctx, cl)
}

// ImportEvents adds historical messages to an existing side conversation.
func (s *SideConversationsService) ImportEvents(ctx context.Context, ticketID int64, id string, events []ImportEvent) (*SideConversationResult, *Response, error) {
	if err := checkPath(ticketID, id); err != nil {
		return nil, nil, err
	}
	if err := validateImportEvents("events", events); err != nil {
		return nil, nil, err
	}
	cl, err := jsonCall(http.MethodPost, s.client.conversationURL(ticketID, id, "/events/import", nil), importEventsRoot{Events: events})
	if err != nil {
		return nil, nil, err
	}
	return s.send(ctx, cl)
}

// send posts a message-carrying request and decodes the result envelope,
// with or without its event.
func (s *SideConversationsService) send(ctx context.Context, cl *call) (*SideConversationResult, *Response, error) {
	var res resultAnswer
	resp, err := s.client.do(ctx, cl, &res)
	if err != nil {
		return nil, resp, err
	}
	return &res.result, resp, nil
}

// withKey returns a copy of ids with the idempotency key and the
// fingerprint of the request it was used for.
func withKey(ids map[string]string, key, fingerprint string) map[string]string {
	out := make(map[string]string, len(ids)+2)
	for k, v := range ids {
		out[k] = v
	}
	out[idempotencyKeyField] = key
	out[fingerprintField] = fingerprint
	return out
}

func sortEvents(events []Event) {
	slices.SortStableFunc(events, func(a, b Event) int { return a.CreatedAt.Compare(b.CreatedAt) })
}
