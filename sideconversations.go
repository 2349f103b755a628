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
// starts at 1 and PerPage is at most 100. Zendesk refuses offsets past
// 10,000 records.
type ListOptions struct {
	Page    int `url:"page,omitempty"`
	PerPage int `url:"per_page,omitempty"`
	// IncludeEvents sideloads each conversation's events (include=events)
	// into SideConversation.Events. ListEvents ignores it.
	IncludeEvents bool `url:"-"`
}

// MaxPerPage is the largest page Zendesk serves.
const MaxPerPage = 100

// offsetLimit is the number of records past which Zendesk refuses offset
// pagination.
const offsetLimit = 10000

// Validate reports a negative page, or a page size outside 0..100, or a page
// that starts past Zendesk's 10,000-record offset limit.
func (o *ListOptions) Validate() error {
	if o == nil {
		return nil
	}
	switch {
	case o.Page < 0:
		return invalid("page", "must not be negative")
	case o.PerPage < 0 || o.PerPage > MaxPerPage:
		return invalidf("per_page", "must be between 1 and %d, not %d", MaxPerPage, o.PerPage)
	case o.Page > 1 && o.PerPage > 0 && pastOffsetLimit(o.Page, o.PerPage):
		return invalidf("page", "page %d of %d starts past record %d: Zendesk refuses offset pagination beyond %d records",
			o.Page, o.PerPage, offsetLimit, offsetLimit)
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
	// IdempotencyKey, when set, makes Create safe to call again: the key
	// is stored in the conversation's external_ids, and after a failure that
	// may have reached Zendesk the client looks for it before sending again.
	// At most one conversation is created per key.
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
	return json.Marshal(struct {
		Message     messageRequest    `json:"message"`
		ExternalIDs map[string]string `json:"external_ids,omitempty"`
	}{r.Message.request(), r.ExternalIDs})
}

// ReplyRequest is the body of Reply.
type ReplyRequest struct {
	Message Message `json:"message"`
	// IdempotencyKey, when set, is stored in the message's external_ids, and
	// after a failure that may have reached Zendesk the client looks for it
	// among the conversation's events before sending again. At most one
	// reply is sent per key.
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
	return json.Marshal(struct {
		Message messageRequest `json:"message"`
	}{r.Message.request()})
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

// idempotencyKeyField is the external id under which an IdempotencyKey is
// stored.
const idempotencyKeyField = "sideconv_idempotency_key"

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
// or could move the request path: empty, dot segments, white space and
// control characters. Everything else is path-escaped.
func checkConversationID(id string) error {
	switch {
	case id == "":
		return invalid("id", "is empty")
	case id == "." || id == "..":
		return invalidf("id", "%q is not a side conversation id", id)
	case strings.IndexFunc(id, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }) >= 0:
		return invalidf("id", "%q contains white space or control characters", id)
	}
	return nil
}

func conversationsPath(ticketID int64) string {
	return "tickets/" + strconv.FormatInt(ticketID, 10) + "/side_conversations"
}

func conversationPath(ticketID int64, id string) string {
	return conversationsPath(ticketID) + "/" + url.PathEscape(id)
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
	return s.listPage(ctx, &call{method: http.MethodGet, url: s.client.endpoint(conversationsPath(ticketID), q)})
}

func (s *SideConversationsService) listPage(ctx context.Context, cl *call) ([]SideConversation, *Response, error) {
	var root sideConversationsRoot
	resp, err := s.client.do(ctx, cl, &root)
	if err != nil {
		return nil, resp, offsetLimitError(cl, err)
	}
	convs := conversationsOf(root.SideConversations)
	resp.UnmatchedEvents = attachEvents(convs, eventsOf(root.Events))
	return convs, resp, nil
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
	var root sideConversationRoot
	resp, err := s.client.do(ctx, &call{method: http.MethodGet, url: s.client.endpoint(conversationPath(ticketID, id), q)}, &root)
	if err != nil {
		return nil, resp, err
	}
	one := conversationsOf([]conversationWire{root.SideConversation})
	resp.UnmatchedEvents = attachEvents(one, eventsOf(root.Events))
	return &one[0], resp, nil
}

// Create starts a side conversation on a ticket with its first message and
// returns the conversation and its create event. The request is validated
// first; nothing is sent if it is invalid.
//
// A failure after the request may have reached Zendesk is never retried
// blindly. Without an IdempotencyKey it is returned matching ErrMaybeSent.
// With one, Create first looks for a conversation of the ticket carrying the
// key and returns it if an earlier call made it; after an ambiguous failure
// it looks again and sends once more only if a complete lookup did not find
// the key. Response.FoundByIdempotencyKey tells a found result from a new one.
func (s *SideConversationsService) Create(ctx context.Context, ticketID int64, req CreateRequest) (*SideConversationResult, *Response, error) {
	if err := checkTicketID(ticketID); err != nil {
		return nil, nil, err
	}
	if err := req.Validate(); err != nil {
		return nil, nil, err
	}
	key := req.IdempotencyKey
	if key != "" {
		req.ExternalIDs = withKey(req.ExternalIDs, key)
	}
	cl, err := jsonCall(http.MethodPost, s.client.endpoint(conversationsPath(ticketID), nil), req)
	if err != nil {
		return nil, nil, err
	}
	cl.bucket = bucketCreateReply
	if key == "" {
		return s.send(ctx, cl)
	}
	return s.sendOnce(ctx, cl, func(ctx context.Context) (*SideConversationResult, *Response, error) {
		return s.findCreated(ctx, ticketID, key)
	})
}

// Reply adds a message to a side conversation. Without To, the reply goes
// to the conversation's participants. Zendesk documents its answer as the
// conversation alone, so the result's Event is empty unless Zendesk sends
// one (see SideConversationResult for how to get it). Failures and
// IdempotencyKey work as for Create; the key is looked for among the
// conversation's events.
func (s *SideConversationsService) Reply(ctx context.Context, ticketID int64, id string, req ReplyRequest) (*SideConversationResult, *Response, error) {
	if err := checkPath(ticketID, id); err != nil {
		return nil, nil, err
	}
	if err := req.Validate(); err != nil {
		return nil, nil, err
	}
	key := req.IdempotencyKey
	if key != "" {
		req.Message.ExternalIDs = withKey(req.Message.ExternalIDs, key)
	}
	cl, err := jsonCall(http.MethodPost, s.client.endpoint(conversationPath(ticketID, id)+"/reply", nil), req)
	if err != nil {
		return nil, nil, err
	}
	cl.bucket = bucketCreateReply
	if key == "" {
		return s.send(ctx, cl)
	}
	return s.sendOnce(ctx, cl, func(ctx context.Context) (*SideConversationResult, *Response, error) {
		return s.findReply(ctx, ticketID, id, key)
	})
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
	cl, err := jsonCall(http.MethodPut, s.client.endpoint(conversationPath(ticketID, id), nil), updateRoot{SideConversation: req})
	if err != nil {
		return nil, nil, err
	}
	var root sideConversationRoot
	resp, err := s.client.do(ctx, cl, &root)
	if err != nil {
		return nil, resp, err
	}
	return &conversationsOf([]conversationWire{root.SideConversation})[0], resp, nil
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
	cl, err := jsonCall(http.MethodPost, s.client.endpoint(conversationsPath(ticketID)+"/import", nil), req)
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
	cl, err := jsonCall(http.MethodPost, s.client.endpoint(conversationPath(ticketID, id)+"/events/import", nil), importEventsRoot{Events: events})
	if err != nil {
		return nil, nil, err
	}
	return s.send(ctx, cl)
}

// send posts a message-carrying request and decodes the result envelope,
// with or without its event.
func (s *SideConversationsService) send(ctx context.Context, cl *call) (*SideConversationResult, *Response, error) {
	var root resultRoot
	resp, err := s.client.do(ctx, cl, &root)
	if err != nil {
		return nil, resp, err
	}
	return root.value(), resp, nil
}

func withKey(ids map[string]string, key string) map[string]string {
	out := make(map[string]string, len(ids)+1)
	for k, v := range ids {
		out[k] = v
	}
	out[idempotencyKeyField] = key
	return out
}

// attachEvents distributes sideloaded events over the conversations they
// belong to, oldest first, and returns those whose conversation is not in
// convs.
func attachEvents(convs []SideConversation, events []Event) []Event {
	if len(events) == 0 {
		return nil
	}
	index := make(map[string]int, len(convs))
	for i := range convs {
		index[convs[i].ID] = i
	}
	var unmatched []Event
	for _, ev := range events {
		i, ok := index[ev.SideConversationID]
		if !ok {
			unmatched = append(unmatched, ev)
			continue
		}
		convs[i].Events = append(convs[i].Events, ev)
	}
	for i := range convs {
		sortEvents(convs[i].Events)
	}
	return unmatched
}

func sortEvents(events []Event) {
	slices.SortStableFunc(events, func(a, b Event) int { return a.CreatedAt.Compare(b.CreatedAt) })
}
