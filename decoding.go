package zendesk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Decoding of Zendesk's answers.
//
// A response is never lost over a value the reference allows in a field,
// or one its examples show: external_ids values that are not strings keep
// their JSON text, child-ticket ids come as numbers or as strings, user
// ids as numbers or numeric strings, times in RFC 3339 or a common ISO
// 8601 variant (or as a string that is no time, which decodes as the zero
// time), and null stands for any value.
//
// Tolerating all that takes custom UnmarshalJSON methods, and encoding/json
// makes each of them cost: it scans a value's extent before it calls the
// method, which then parses the value again. Nearly every answer needs
// none of them, so an answer is decoded in one of two ways, into the same
// generic shapes (the wire types and envelopes below) with different leaf
// types:
//
//   - fast: leaves that encoding/json decodes by itself (fastParticipant,
//     map[string]string, time.Time, whose own UnmarshalJSON a hand-written
//     client pays too), with one json.Unmarshal of the whole body, which
//     the client reads into a buffer it recycles from call to call;
//   - tolerant, whenever the fast way fails, for any reason: the leaf
//     types at the end of this file (tolerantParticipant, externalIDs,
//     flexTime), from the same bytes, through a json.Decoder as the client
//     always decoded answers. Its errors are the ones callers see, and tell
//     a body that broke off from one of the wrong shape.
//
// The fast leaves accept a part of what the tolerant ones accept and read
// it the same way, so an answer decodes to the same values whichever way
// it went (FuzzDecodeEnvelopes checks this). Both ways then convert into
// the exported types, taking the participants and messages of one answer
// from a slab. Strings decoded by encoding/json never alias its input, so
// the buffer can be reused as soon as an answer is decoded.
//
// The exported types' own UnmarshalJSON methods, for callers that decode
// Zendesk's JSON themselves, go the same two ways.

// The leaf types of the generic shapes: fastParticipant, map[string]string
// and time.Time for the fast way; tolerantParticipant, externalIDs and
// flexTime for the tolerant one.
type (
	participantLeaf interface {
		fastParticipant | tolerantParticipant
		value() Participant
	}
	idsLeaf interface {
		map[string]string | externalIDs
	}
	timeLeaf interface{ time.Time | flexTime }
)

// The two ways of decoding each shape.
type (
	fastMessage     = messageWire[fastParticipant, map[string]string]
	tolerantMessage = messageWire[tolerantParticipant, externalIDs]

	fastEvent     = eventWire[fastParticipant, map[string]string, time.Time]
	tolerantEvent = eventWire[tolerantParticipant, externalIDs, flexTime]

	fastConversation     = conversationWire[fastParticipant, map[string]string, time.Time]
	tolerantConversation = conversationWire[tolerantParticipant, externalIDs, flexTime]

	fastConversationRoot     = sideConversationRoot[fastParticipant, map[string]string, time.Time]
	tolerantConversationRoot = sideConversationRoot[tolerantParticipant, externalIDs, flexTime]

	fastPageRoot     = sideConversationsRoot[fastParticipant, map[string]string, time.Time]
	tolerantPageRoot = sideConversationsRoot[tolerantParticipant, externalIDs, flexTime]

	fastResultRoot     = resultRoot[fastParticipant, map[string]string, time.Time]
	tolerantResultRoot = resultRoot[tolerantParticipant, externalIDs, flexTime]

	fastEventsRoot     = eventsRoot[fastParticipant, map[string]string, time.Time]
	tolerantEventsRoot = eventsRoot[tolerantParticipant, externalIDs, flexTime]

	fastIncrementalRoot     = incrementalRoot[fastParticipant, map[string]string, time.Time]
	tolerantIncrementalRoot = incrementalRoot[tolerantParticipant, externalIDs, flexTime]
)

// fastParticipant is a participant as encoding/json decodes it by itself.
// The child-ticket ids are json.Number, which takes a number or a string
// holding one: the reference types them as strings, its examples send
// numbers.
type fastParticipant struct {
	UserID           int64       `json:"user_id"`
	Name             string      `json:"name"`
	Email            string      `json:"email"`
	SlackWorkspaceID string      `json:"slack_workspace_id"`
	SlackChannelID   string      `json:"slack_channel_id"`
	SupportGroupID   json.Number `json:"support_group_id"`
	SupportAgentID   json.Number `json:"support_agent_id"`
	MSTeamsChannelID string      `json:"msteams_channel_id"`
}

func (p fastParticipant) value() Participant {
	out := Participant{
		UserID:           p.UserID,
		Name:             p.Name,
		Email:            p.Email,
		SlackWorkspaceID: p.SlackWorkspaceID,
		SlackChannelID:   p.SlackChannelID,
		MSTeamsChannelID: p.MSTeamsChannelID,
	}
	out.SupportGroupID, out.SupportGroupIDText = numberID(p.SupportGroupID)
	out.SupportAgentID, out.SupportAgentIDText = numberID(p.SupportAgentID)
	return out
}

// numberID reads a child-ticket id: an integer, or else the text it came
// as (1.5, 1e3), as the tolerant way reads it.
func numberID(n json.Number) (int64, string) {
	if n == "" {
		return 0, ""
	}
	if id, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return id, ""
	}
	return 0, string(n)
}

// tolerantParticipant is a participant as Zendesk may send it.
type tolerantParticipant struct {
	UserID           flexInt64 `json:"user_id"`
	Name             string    `json:"name"`
	Email            string    `json:"email"`
	SlackWorkspaceID string    `json:"slack_workspace_id"`
	SlackChannelID   string    `json:"slack_channel_id"`
	SupportGroupID   supportID `json:"support_group_id"`
	SupportAgentID   supportID `json:"support_agent_id"`
	MSTeamsChannelID string    `json:"msteams_channel_id"`
}

func (w tolerantParticipant) value() Participant {
	return Participant{
		UserID:             int64(w.UserID),
		Name:               w.Name,
		Email:              w.Email,
		SlackWorkspaceID:   w.SlackWorkspaceID,
		SlackChannelID:     w.SlackChannelID,
		SupportGroupID:     w.SupportGroupID.id,
		SupportAgentID:     w.SupportAgentID.id,
		MSTeamsChannelID:   w.MSTeamsChannelID,
		SupportGroupIDText: w.SupportGroupID.text,
		SupportAgentIDText: w.SupportAgentID.text,
	}
}

// messageWire is a message as Zendesk sends it.
type messageWire[P participantLeaf, X idsLeaf] struct {
	Subject       string       `json:"subject"`
	Body          string       `json:"body"`
	HTMLBody      string       `json:"html_body"`
	PreviewText   string       `json:"preview_text"`
	From          P            `json:"from"`
	To            []P          `json:"to"`
	ExternalIDs   X            `json:"external_ids"`
	AttachmentIDs []string     `json:"attachment_ids"`
	Attachments   []Attachment `json:"attachments"`
}

func (w messageWire[P, X]) value() Message {
	var s slab
	return w.into(&s)
}

// into converts the message, taking its participants from s.
func (w *messageWire[P, X]) into(s *slab) Message {
	return Message{
		Subject:       w.Subject,
		Body:          w.Body,
		HTMLBody:      w.HTMLBody,
		PreviewText:   w.PreviewText,
		From:          w.From.value(),
		To:            participantsOf(s, w.To),
		ExternalIDs:   map[string]string(w.ExternalIDs),
		AttachmentIDs: w.AttachmentIDs,
		Attachments:   w.Attachments,
	}
}

// eventWire is an event as Zendesk sends it.
type eventWire[P participantLeaf, X idsLeaf, T timeLeaf] struct {
	ID                 string             `json:"id"`
	SideConversationID string             `json:"side_conversation_id"`
	TicketID           int64              `json:"ticket_id"`
	Type               EventType          `json:"type"`
	Via                string             `json:"via"`
	URL                string             `json:"url"`
	Actor              P                  `json:"actor"`
	CreatedAt          T                  `json:"created_at"`
	Message            *messageWire[P, X] `json:"message"`
	Updates            Updates            `json:"updates"`
}

func (w eventWire[P, X, T]) value() Event {
	var s slab
	return w.into(&s)
}

// into converts the event, taking its message and participants from s.
func (w *eventWire[P, X, T]) into(s *slab) Event {
	ev := Event{
		ID:                 w.ID,
		SideConversationID: w.SideConversationID,
		TicketID:           w.TicketID,
		Type:               w.Type,
		Via:                w.Via,
		URL:                w.URL,
		Actor:              w.Actor.value(),
		CreatedAt:          time.Time(w.CreatedAt),
		Updates:            w.Updates,
	}
	if w.Message != nil {
		ev.Message = s.message()
		*ev.Message = w.Message.into(s)
	}
	return ev
}

// conversationWire is a side conversation as Zendesk sends it.
type conversationWire[P participantLeaf, X idsLeaf, T timeLeaf] struct {
	ID             string `json:"id"`
	TicketID       int64  `json:"ticket_id"`
	Subject        string `json:"subject"`
	PreviewText    string `json:"preview_text"`
	URL            string `json:"url"`
	State          State  `json:"state"`
	Participants   []P    `json:"participants"`
	ExternalIDs    X      `json:"external_ids"`
	CreatedAt      T      `json:"created_at"`
	UpdatedAt      T      `json:"updated_at"`
	MessageAddedAt T      `json:"message_added_at"`
	StateUpdatedAt T      `json:"state_updated_at"`
}

func (w conversationWire[P, X, T]) value() SideConversation {
	var s slab
	return w.into(&s)
}

func (w *conversationWire[P, X, T]) into(s *slab) SideConversation {
	return SideConversation{
		ID:             w.ID,
		TicketID:       w.TicketID,
		Subject:        w.Subject,
		PreviewText:    w.PreviewText,
		URL:            w.URL,
		State:          w.State,
		Participants:   participantsOf(s, w.Participants),
		ExternalIDs:    map[string]string(w.ExternalIDs),
		CreatedAt:      time.Time(w.CreatedAt),
		UpdatedAt:      time.Time(w.UpdatedAt),
		MessageAddedAt: time.Time(w.MessageAddedAt),
		StateUpdatedAt: time.Time(w.StateUpdatedAt),
	}
}

// slab hands out the participants and messages of one answer from a few
// large allocations instead of one per list. Its zero value allocates as it
// goes.
type slab struct {
	people   []Participant
	messages []Message
}

// reserve makes room for the participants and messages of one answer.
func (s *slab) reserve(people, messages int) {
	s.people = make([]Participant, 0, people)
	s.messages = make([]Message, 0, messages)
}

// eventNeeds counts the participants and messages events take from a slab.
func eventNeeds[P participantLeaf, X idsLeaf, T timeLeaf](events []eventWire[P, X, T]) (people, messages int) {
	for i := range events {
		if m := events[i].Message; m != nil {
			people += len(m.To)
			messages++
		}
	}
	return people, messages
}

// participantsOf converts a list of participants; nil stays nil. The
// list's capacity ends with it, so appending to it never writes over the
// next one.
func participantsOf[P participantLeaf](s *slab, ws []P) []Participant {
	if ws == nil {
		return nil
	}
	if cap(s.people)-len(s.people) < len(ws) {
		s.people = make([]Participant, 0, len(ws))
	}
	start := len(s.people)
	for i := range ws {
		s.people = append(s.people, ws[i].value())
	}
	return s.people[start:len(s.people):len(s.people)]
}

// message returns room for one message.
func (s *slab) message() *Message {
	if len(s.messages) == cap(s.messages) {
		s.messages = make([]Message, 0, 1)
	}
	s.messages = s.messages[:len(s.messages)+1]
	return &s.messages[len(s.messages)-1]
}

func conversationsOf[P participantLeaf, X idsLeaf, T timeLeaf](s *slab, ws []conversationWire[P, X, T]) []SideConversation {
	if ws == nil {
		return nil
	}
	out := make([]SideConversation, len(ws))
	for i := range ws {
		out[i] = ws[i].into(s)
	}
	return out
}

func eventsOf[P participantLeaf, X idsLeaf, T timeLeaf](ws []eventWire[P, X, T]) []Event {
	if ws == nil {
		return nil
	}
	var s slab
	s.reserve(eventNeeds(ws))
	out := make([]Event, len(ws))
	for i := range ws {
		out[i] = ws[i].into(&s)
	}
	return out
}

// attachEvents converts sideloaded events and hands each conversation its
// own, oldest first (Events is a part of one array, its capacity ending
// with it). It returns, in the order they came, the events of
// conversations not in convs.
func attachEvents[P participantLeaf, X idsLeaf, T timeLeaf](s *slab, convs []SideConversation, ws []eventWire[P, X, T]) []Event {
	if len(ws) == 0 {
		return nil
	}
	index := make(map[string]int, len(convs))
	for i := range convs {
		index[convs[i].ID] = i
	}
	// owner[j] is the conversation of event j, len(convs) for none; next[i]
	// counts the events of conversation i, then becomes where its next
	// event goes.
	owner := make([]int, len(ws))
	next := make([]int, len(convs)+1)
	for j := range ws {
		i, ok := index[ws[j].SideConversationID]
		if !ok {
			i = len(convs)
		}
		owner[j] = i
		next[i]++
	}
	start := 0
	for i, n := range next {
		next[i] = start
		start += n
	}
	all := make([]Event, len(ws))
	for j := range ws {
		all[next[owner[j]]] = ws[j].into(s)
		next[owner[j]]++
	}
	start = 0
	for i := range convs {
		if end := next[i]; end > start {
			convs[i].Events = all[start:end:end]
			sortEvents(convs[i].Events)
			start = end
		}
	}
	if start == len(all) {
		return nil
	}
	return all[start:]
}

// Answers: the exported values of each envelope.

// An answer is what a call decodes a successful body into; the client
// tries decodeFast first and decodeTolerant when that fails. Either fills
// the answer only when it succeeds.
type answer interface {
	decodeFast(data []byte) error
	decodeTolerant(dec *json.Decoder) error
}

// envelope is the JSON form of an answer A, decoded with either leaves.
type envelope[A any] interface{ into(a A) }

func unmarshalAnswer[E envelope[A], A any](data []byte, a A) error {
	var e E
	if err := json.Unmarshal(data, &e); err != nil {
		return err
	}
	e.into(a)
	return nil
}

func decodeAnswer[E envelope[A], A any](dec *json.Decoder, a A) error {
	var e E
	if err := dec.Decode(&e); err != nil {
		return err
	}
	e.into(a)
	return nil
}

// conversationAnswer answers Show and Update.
type conversationAnswer struct {
	// conversation is an array of one, so that sideloaded events attach
	// to it as to the conversations of a page.
	conversation [1]SideConversation
	// found is false when the answer had no side_conversation object.
	found bool
	// unmatched are sideloaded events of other conversations.
	unmatched []Event
}

func (a *conversationAnswer) decodeFast(data []byte) error {
	return unmarshalAnswer[fastConversationRoot](data, a)
}

func (a *conversationAnswer) decodeTolerant(dec *json.Decoder) error {
	return decodeAnswer[tolerantConversationRoot](dec, a)
}

func (a *conversationAnswer) validAnswer() error {
	if !a.found {
		return errNoConversation
	}
	return nil
}

// pageAnswer answers List.
type pageAnswer struct {
	conversations          []SideConversation
	unmatched              []Event
	nextPage, previousPage string
	count                  int
}

func (a *pageAnswer) decodeFast(data []byte) error {
	return unmarshalAnswer[fastPageRoot](data, a)
}

func (a *pageAnswer) decodeTolerant(dec *json.Decoder) error {
	return decodeAnswer[tolerantPageRoot](dec, a)
}

func (a *pageAnswer) pagination() (string, string, int) {
	return a.nextPage, a.previousPage, a.count
}

// resultAnswer answers Create, Reply, Import and ImportEvents.
type resultAnswer struct {
	result SideConversationResult
	found  bool
}

func (a *resultAnswer) decodeFast(data []byte) error {
	return unmarshalAnswer[fastResultRoot](data, a)
}

func (a *resultAnswer) decodeTolerant(dec *json.Decoder) error {
	return decodeAnswer[tolerantResultRoot](dec, a)
}

func (a *resultAnswer) validAnswer() error {
	if !a.found {
		return errNoConversation
	}
	return nil
}

// eventsAnswer answers ListEvents.
type eventsAnswer struct {
	events                 []Event
	nextPage, previousPage string
	count                  int
}

func (a *eventsAnswer) decodeFast(data []byte) error {
	return unmarshalAnswer[fastEventsRoot](data, a)
}

func (a *eventsAnswer) decodeTolerant(dec *json.Decoder) error {
	return decodeAnswer[tolerantEventsRoot](dec, a)
}

func (a *eventsAnswer) pagination() (string, string, int) {
	return a.nextPage, a.previousPage, a.count
}

// incrementalAnswer is a page of the incremental event export.
type incrementalAnswer struct {
	events      []Event
	nextPage    string
	endTime     int64
	endOfStream bool
}

func (a *incrementalAnswer) decodeFast(data []byte) error {
	return unmarshalAnswer[fastIncrementalRoot](data, a)
}

func (a *incrementalAnswer) decodeTolerant(dec *json.Decoder) error {
	return decodeAnswer[tolerantIncrementalRoot](dec, a)
}

// errNoConversation is a success answer without the side_conversation
// object it must hold. What the object holds is decoded tolerantly: an id
// Zendesk left null is the empty string, not an error.
var errNoConversation = errors.New("the answer holds no side_conversation object")

// Envelopes, as Zendesk wraps its answers.

type sideConversationRoot[P participantLeaf, X idsLeaf, T timeLeaf] struct {
	SideConversation *conversationWire[P, X, T] `json:"side_conversation"`
	Events           []eventWire[P, X, T]       `json:"events"`
}

func (r sideConversationRoot[P, X, T]) into(a *conversationAnswer) {
	if r.SideConversation == nil {
		return
	}
	var s slab
	people, messages := eventNeeds(r.Events)
	s.reserve(people+len(r.SideConversation.Participants), messages)
	a.conversation[0] = r.SideConversation.into(&s)
	a.found = true
	a.unmatched = attachEvents(&s, a.conversation[:], r.Events)
}

type sideConversationsRoot[P participantLeaf, X idsLeaf, T timeLeaf] struct {
	SideConversations []conversationWire[P, X, T] `json:"side_conversations"`
	Events            []eventWire[P, X, T]        `json:"events"`
	NextPage          *string                     `json:"next_page"`
	PreviousPage      *string                     `json:"previous_page"`
	Count             int                         `json:"count"`
}

func (r sideConversationsRoot[P, X, T]) into(a *pageAnswer) {
	var s slab
	people, messages := eventNeeds(r.Events)
	for i := range r.SideConversations {
		people += len(r.SideConversations[i].Participants)
	}
	s.reserve(people, messages)
	a.conversations = conversationsOf(&s, r.SideConversations)
	a.unmatched = attachEvents(&s, a.conversations, r.Events)
	a.nextPage, a.previousPage, a.count = deref(r.NextPage), deref(r.PreviousPage), r.Count
}

// resultRoot is the answer to Create, Reply, Import and ImportEvents. Reply
// is documented to answer with side_conversation only; its Event stays the
// zero value, and converts to the zero Event.
type resultRoot[P participantLeaf, X idsLeaf, T timeLeaf] struct {
	Event            eventWire[P, X, T]         `json:"event"`
	SideConversation *conversationWire[P, X, T] `json:"side_conversation"`
	Updates          Updates                    `json:"updates"`
}

func (r resultRoot[P, X, T]) into(a *resultAnswer) {
	var s slab
	people, messages := 0, 0
	if r.SideConversation != nil {
		people += len(r.SideConversation.Participants)
	}
	if m := r.Event.Message; m != nil {
		people += len(m.To)
		messages++
	}
	s.reserve(people, messages)
	a.result.Updates = r.Updates
	if r.SideConversation != nil {
		a.result.SideConversation = r.SideConversation.into(&s)
		a.found = true
	}
	a.result.Event = r.Event.into(&s)
}

type eventsRoot[P participantLeaf, X idsLeaf, T timeLeaf] struct {
	Events       []eventWire[P, X, T] `json:"events"`
	NextPage     *string              `json:"next_page"`
	PreviousPage *string              `json:"previous_page"`
	Count        int                  `json:"count"`
}

func (r eventsRoot[P, X, T]) into(a *eventsAnswer) {
	a.events = eventsOf(r.Events)
	a.nextPage, a.previousPage, a.count = deref(r.NextPage), deref(r.PreviousPage), r.Count
}

type incrementalRoot[P participantLeaf, X idsLeaf, T timeLeaf] struct {
	Events      []eventWire[P, X, T] `json:"events"`
	NextPage    *string              `json:"next_page"`
	EndTime     int64                `json:"end_time"`
	EndOfStream bool                 `json:"end_of_stream"`
}

func (r incrementalRoot[P, X, T]) into(a *incrementalAnswer) {
	a.events = eventsOf(r.Events)
	a.nextPage, a.endTime, a.endOfStream = deref(r.NextPage), r.EndTime, r.EndOfStream
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// The exported types' decoding.

// UnmarshalJSON decodes a side conversation, tolerating the values
// SideConversation describes.
func (sc *SideConversation) UnmarshalJSON(data []byte) error {
	return unmarshalValue[fastConversation, tolerantConversation](data, sc)
}

// UnmarshalJSON decodes an event, tolerating the values Event describes.
func (ev *Event) UnmarshalJSON(data []byte) error {
	return unmarshalValue[fastEvent, tolerantEvent](data, ev)
}

// UnmarshalJSON decodes a message, keeping external_ids whose values are not
// strings as their JSON text.
func (m *Message) UnmarshalJSON(data []byte) error {
	return unmarshalValue[fastMessage, tolerantMessage](data, m)
}

// UnmarshalJSON decodes a participant as Participant describes.
func (p *Participant) UnmarshalJSON(data []byte) error {
	return unmarshalValue[fastParticipant, tolerantParticipant](data, p)
}

// unmarshalValue decodes data into a value of an exported type: the fast
// way through F, or else the tolerant way through W.
func unmarshalValue[F, W interface{ value() V }, V any](data []byte, v *V) error {
	var f F
	if json.Unmarshal(data, &f) == nil {
		*v = f.value()
		return nil
	}
	var w W
	if err := json.Unmarshal(data, &w); err != nil {
		return readableError(err)
	}
	*v = w.value()
	return nil
}

// readableError rewords encoding/json's type errors, which name the
// generic Go types the values are decoded into, by the JSON path of the
// value instead.
func readableError(err error) error {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return err
	}
	return &typeError{te}
}

// typeError is a JSON value of the wrong type.
type typeError struct{ *json.UnmarshalTypeError }

func (e *typeError) Error() string {
	where := e.Field
	if where == "" {
		where = "the value"
	}
	return "json: " + where + " is a JSON " + e.Value + ", not " + goKind(e.Type)
}

func (e *typeError) Unwrap() error { return e.UnmarshalTypeError }

// goKind names what a Go type decodes from, in JSON's words.
func goKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "a " + t.Kind().String()
}

// Tolerant leaf types. Like encoding/json with plain types, each leaves
// its value as it is for null, so that both ways agree even on an object
// that repeats a key.

// flexInt64 decodes from a JSON number, a string holding one, "" or null.
type flexInt64 int64

func (n *flexInt64) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if string(data) == "null" {
		return nil
	}
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		if s = strings.TrimSpace(s); s == "" {
			*n = 0
			return nil
		}
		data = []byte(s)
	}
	v, err := strconv.ParseInt(string(data), 10, 64)
	if err != nil {
		return fmt.Errorf("zendesk: %s is not an integer id", data)
	}
	*n = flexInt64(v)
	return nil
}

// supportID is a child-ticket id: an integer from a number or a numeric
// string, or else the text it came as.
type supportID struct {
	id   int64
	text string
}

func (v *supportID) UnmarshalJSON(data []byte) error {
	if len(data) == 0 || data[0] == 'n' { // null
		return nil
	}
	*v = supportID{}
	switch data[0] {
	case '"':
		s, err := unquote(data)
		if err != nil {
			return err
		}
		t := strings.TrimSpace(s)
		if t == "" {
			return nil
		}
		if n, err := strconv.ParseInt(t, 10, 64); err == nil {
			v.id = n
			return nil
		}
		v.text = s
		return nil
	case 't', 'f', '{', '[':
		return errors.New("zendesk: a support group or agent id is a number or a string, not " + jsonKind(data))
	}
	if n, err := strconv.ParseInt(string(data), 10, 64); err == nil {
		v.id = n
		return nil
	}
	v.text = string(data) // a number that is not an int64: 1.5, 1e3, 2^70
	return nil
}

// flexTime is a time Zendesk sends: RFC 3339 as in every example, or
// another ISO 8601 form. A string that is no time decodes as the zero time;
// a value that is not a string is an error.
type flexTime time.Time

// isoLayouts are the ISO 8601 forms read besides RFC 3339.
var isoLayouts = []string{
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999Z0700",
	"2006-01-02 15:04:05.999999999 -0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

func (t *flexTime) UnmarshalJSON(data []byte) error {
	if len(data) == 0 || data[0] == 'n' {
		return nil
	}
	*t = flexTime{}
	if data[0] != '"' {
		return errors.New("zendesk: a time is a string, not " + jsonKind(data))
	}
	var tt time.Time
	if tt.UnmarshalJSON(data) == nil { // RFC 3339, without allocating
		*t = flexTime(tt)
		return nil
	}
	s, err := unquote(data)
	if err != nil {
		return err
	}
	s = strings.TrimSpace(s)
	for _, layout := range isoLayouts {
		if tt, err := time.Parse(layout, s); err == nil {
			*t = flexTime(tt)
			return nil
		}
	}
	if tt, err := time.Parse(time.RFC3339Nano, s); err == nil {
		*t = flexTime(tt)
	}
	return nil
}

// externalIDs is an external_ids object. Values that are strings are kept
// as they are; null is ""; any other value keeps its JSON text, so that a
// number Zendesk sends (a targetTicketId, say) is not lost. Like
// map[string]string, it adds to a map it already holds.
type externalIDs map[string]string

func (m *externalIDs) UnmarshalJSON(data []byte) error {
	if len(data) == 0 {
		return nil
	}
	switch data[0] {
	case 'n':
		*m = nil
		return nil
	case '[': // an empty object some serializers write as []
		var items []json.RawMessage
		if err := json.Unmarshal(data, &items); err != nil {
			return err
		}
		if len(items) > 0 {
			return errors.New("zendesk: external_ids is an object, not a non-empty array")
		}
		*m = nil
		return nil
	case '{':
	default:
		return errors.New("zendesk: external_ids is an object, not " + jsonKind(data))
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	out := map[string]string(*m)
	if out == nil {
		out = make(map[string]string, len(raw))
	}
	for k, v := range raw {
		switch {
		case len(v) == 0 || v[0] == 'n':
			out[k] = ""
		case v[0] == '"':
			s, err := unquote(v)
			if err != nil {
				return err
			}
			out[k] = s
		default:
			var b bytes.Buffer
			if err := json.Compact(&b, v); err != nil {
				return err
			}
			out[k] = b.String()
		}
	}
	*m = out
	return nil
}

// unquote returns the string a JSON string literal holds.
func unquote(data []byte) (string, error) {
	if len(data) >= 2 && bytes.IndexByte(data, '\\') < 0 && utf8.Valid(data) {
		return string(data[1 : len(data)-1]), nil
	}
	var s string
	err := json.Unmarshal(data, &s)
	return s, err
}

// jsonKind names the JSON type of a value by its first byte.
func jsonKind(data []byte) string {
	if len(data) == 0 {
		return "nothing"
	}
	switch data[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	case '"':
		return "a string"
	}
	return "a number"
}
