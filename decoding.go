package zendesk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Decoding of Zendesk's answers. A response is never lost over a value the
// reference allows in a field, or one its examples show: external_ids values
// that are not strings keep their JSON text, child-ticket ids come as
// numbers or as strings, times come in RFC 3339 or a common ISO 8601
// variant (or as a string that is no time, which decodes as the zero time),
// and null stands for any value.
//
// The answers are decoded into the wire types below, whose tolerant fields
// are leaf types, and then converted: a custom UnmarshalJSON on a type that
// holds others would make encoding/json scan its bytes once more for every
// level of nesting. The exported types' own UnmarshalJSON methods, for
// callers that decode Zendesk's JSON themselves, use the same wire types.

// participantWire is a participant as Zendesk sends it.
type participantWire struct {
	UserID           flexInt64 `json:"user_id"`
	Name             string    `json:"name"`
	Email            string    `json:"email"`
	SlackWorkspaceID string    `json:"slack_workspace_id"`
	SlackChannelID   string    `json:"slack_channel_id"`
	SupportGroupID   supportID `json:"support_group_id"`
	SupportAgentID   supportID `json:"support_agent_id"`
	MSTeamsChannelID string    `json:"msteams_channel_id"`
}

func (w *participantWire) value() Participant {
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
type messageWire struct {
	Subject       string            `json:"subject"`
	Body          string            `json:"body"`
	HTMLBody      string            `json:"html_body"`
	PreviewText   string            `json:"preview_text"`
	From          participantWire   `json:"from"`
	To            []participantWire `json:"to"`
	ExternalIDs   externalIDs       `json:"external_ids"`
	AttachmentIDs []string          `json:"attachment_ids"`
	Attachments   []Attachment      `json:"attachments"`
}

func (w *messageWire) value() Message {
	var s slab
	return w.into(&s)
}

// into converts the message, taking its participants from s.
func (w *messageWire) into(s *slab) Message {
	return Message{
		Subject:       w.Subject,
		Body:          w.Body,
		HTMLBody:      w.HTMLBody,
		PreviewText:   w.PreviewText,
		From:          w.From.value(),
		To:            s.participants(w.To),
		ExternalIDs:   map[string]string(w.ExternalIDs),
		AttachmentIDs: w.AttachmentIDs,
		Attachments:   w.Attachments,
	}
}

// eventWire is an event as Zendesk sends it.
type eventWire struct {
	ID                 string          `json:"id"`
	SideConversationID string          `json:"side_conversation_id"`
	TicketID           int64           `json:"ticket_id"`
	Type               EventType       `json:"type"`
	Via                string          `json:"via"`
	URL                string          `json:"url"`
	Actor              participantWire `json:"actor"`
	CreatedAt          flexTime        `json:"created_at"`
	Message            *messageWire    `json:"message"`
	Updates            Updates         `json:"updates"`
}

// into converts the event, taking its message and participants from s.
func (w *eventWire) into(s *slab) Event {
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
type conversationWire struct {
	ID             string            `json:"id"`
	TicketID       int64             `json:"ticket_id"`
	Subject        string            `json:"subject"`
	PreviewText    string            `json:"preview_text"`
	URL            string            `json:"url"`
	State          State             `json:"state"`
	Participants   []participantWire `json:"participants"`
	ExternalIDs    externalIDs       `json:"external_ids"`
	CreatedAt      flexTime          `json:"created_at"`
	UpdatedAt      flexTime          `json:"updated_at"`
	MessageAddedAt flexTime          `json:"message_added_at"`
	StateUpdatedAt flexTime          `json:"state_updated_at"`
}

func (w *conversationWire) into(s *slab) SideConversation {
	return SideConversation{
		ID:             w.ID,
		TicketID:       w.TicketID,
		Subject:        w.Subject,
		PreviewText:    w.PreviewText,
		URL:            w.URL,
		State:          w.State,
		Participants:   s.participants(w.Participants),
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

func (s *slab) reserveConversations(ws []conversationWire) {
	n := 0
	for i := range ws {
		n += len(ws[i].Participants)
	}
	s.people = make([]Participant, 0, n)
}

func (s *slab) reserveEvents(ws []eventWire) {
	n, m := 0, 0
	for i := range ws {
		if msg := ws[i].Message; msg != nil {
			n += len(msg.To)
			m++
		}
	}
	s.people = make([]Participant, 0, n)
	s.messages = make([]Message, 0, m)
}

// participants converts a list; nil stays nil. The list's capacity ends
// with it, so appending to it never writes over the next one.
func (s *slab) participants(ws []participantWire) []Participant {
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

func conversationsOf(ws []conversationWire) []SideConversation {
	if ws == nil {
		return nil
	}
	var s slab
	s.reserveConversations(ws)
	out := make([]SideConversation, len(ws))
	for i := range ws {
		out[i] = ws[i].into(&s)
	}
	return out
}

func eventsOf(ws []eventWire) []Event {
	if ws == nil {
		return nil
	}
	var s slab
	s.reserveEvents(ws)
	out := make([]Event, len(ws))
	for i := range ws {
		out[i] = ws[i].into(&s)
	}
	return out
}

// UnmarshalJSON decodes a side conversation, tolerating the values
// SideConversation describes.
func (sc *SideConversation) UnmarshalJSON(data []byte) error {
	var w conversationWire
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	var s slab
	*sc = w.into(&s)
	return nil
}

// UnmarshalJSON decodes an event, tolerating the values Event describes.
func (ev *Event) UnmarshalJSON(data []byte) error {
	var w eventWire
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	var s slab
	*ev = w.into(&s)
	return nil
}

// Envelopes, as Zendesk wraps its answers.

type sideConversationRoot struct {
	SideConversation *conversationWire `json:"side_conversation"`
	Events           []eventWire       `json:"events,omitempty"`
}

type sideConversationsRoot struct {
	SideConversations []conversationWire `json:"side_conversations"`
	Events            []eventWire        `json:"events,omitempty"`
	NextPage          *string            `json:"next_page"`
	PreviousPage      *string            `json:"previous_page"`
	Count             int                `json:"count"`
}

func (r *sideConversationsRoot) pagination() (string, string, int) {
	return deref(r.NextPage), deref(r.PreviousPage), r.Count
}

// resultRoot is the answer to Create, Reply, Import and ImportEvents. Reply
// is documented to answer with side_conversation only.
type resultRoot struct {
	Event            *eventWire        `json:"event"`
	SideConversation *conversationWire `json:"side_conversation"`
	Updates          Updates           `json:"updates"`
}

func (r *resultRoot) value() *SideConversationResult {
	var s slab
	out := &SideConversationResult{Updates: r.Updates}
	if r.SideConversation != nil {
		out.SideConversation = r.SideConversation.into(&s)
	}
	if r.Event != nil {
		out.Event = r.Event.into(&s)
	}
	return out
}

type eventsRoot struct {
	Events       []eventWire `json:"events"`
	NextPage     *string     `json:"next_page"`
	PreviousPage *string     `json:"previous_page"`
	Count        int         `json:"count"`
}

func (r *eventsRoot) pagination() (string, string, int) {
	return deref(r.NextPage), deref(r.PreviousPage), r.Count
}

type incrementalRoot struct {
	Events      []eventWire `json:"events"`
	NextPage    *string     `json:"next_page"`
	EndTime     int64       `json:"end_time"`
	Count       int         `json:"count"`
	EndOfStream bool        `json:"end_of_stream"`
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Leaf types.

// flexInt64 decodes from a JSON number, a string holding one, "" or null.
type flexInt64 int64

func (n *flexInt64) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if string(data) == "null" {
		*n = 0
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
	*v = supportID{}
	if len(data) == 0 {
		return nil
	}
	switch data[0] {
	case 'n': // null
		return nil
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
	*t = flexTime{}
	if len(data) == 0 || data[0] == 'n' {
		return nil
	}
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
// number Zendesk sends (a targetTicketId, say) is not lost.
type externalIDs map[string]string

func (m *externalIDs) UnmarshalJSON(data []byte) error {
	*m = nil
	if len(data) == 0 {
		return nil
	}
	switch data[0] {
	case 'n':
		return nil
	case '[': // an empty object some serializers write as []
		var items []json.RawMessage
		if err := json.Unmarshal(data, &items); err != nil {
			return err
		}
		if len(items) > 0 {
			return errors.New("zendesk: external_ids is an object, not a non-empty array")
		}
		return nil
	case '{':
	default:
		return errors.New("zendesk: external_ids is an object, not " + jsonKind(data))
	}
	var plain map[string]string
	if json.Unmarshal(data, &plain) == nil { // every value a string: the usual case
		*m = plain
		return nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	out := make(map[string]string, len(raw))
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
