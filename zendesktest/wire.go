package zendesktest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	zendesk "github.com/sideconv/zendesk"
)

// Request bodies, decoded into our own structs so that wrong types can be
// told apart from missing values.

// messageIn is a message of a request: its writable fields. Zendesk's
// answers add html_body, preview_text and attachments, which the reference
// shows only there; in a request they are ignored, as read-only fields are.
type messageIn struct {
	Subject       string          `json:"subject"`
	Body          string          `json:"body"`
	From          json.RawMessage `json:"from"`
	To            json.RawMessage `json:"to"`
	ExternalIDs   json.RawMessage `json:"external_ids"`
	AttachmentIDs json.RawMessage `json:"attachment_ids"`
}

type participantIn struct {
	UserID           json.RawMessage `json:"user_id"`
	Name             *string         `json:"name"`
	Email            *string         `json:"email"`
	SlackWorkspaceID *string         `json:"slack_workspace_id"`
	SlackChannelID   *string         `json:"slack_channel_id"`
	SupportGroupID   json.RawMessage `json:"support_group_id"`
	SupportAgentID   json.RawMessage `json:"support_agent_id"`
	MSTeamsChannelID *string         `json:"msteams_channel_id"`
}

type importEventIn struct {
	CreatedAt json.RawMessage `json:"created_at"`
	Message   *messageIn      `json:"message"`
}

// decodeJSON decodes a request body into v, answering 400 InvalidJSON for a
// body that is not a JSON object and 422 RecordInvalid for values of the
// wrong type. An empty body counts as {}.
func decodeJSON(body []byte, v any, resp *response) bool {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		body = []byte("{}")
	}
	if !json.Valid(body) {
		resp.badRequest("InvalidJSON", "The request body is not valid JSON")
		return false
	}
	if body[0] != '{' {
		resp.badRequest("InvalidJSON", "The request body must be a JSON object")
		return false
	}
	err := json.Unmarshal(body, v)
	if err == nil {
		return true
	}
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		field := typeErr.Field
		if field == "" {
			field = "base"
		}
		details := validationErrors{}
		details.add(lastSegment(field), "%s must be %s, not %s", field, jsonTypeName(typeErr.Type), typeErr.Value)
		resp.invalid(details)
		return false
	}
	resp.badRequest("InvalidJSON", "The request body could not be decoded: "+err.Error())
	return false
}

func lastSegment(field string) string {
	if i := strings.LastIndexByte(field, '.'); i >= 0 {
		return field[i+1:]
	}
	return field
}

// jsonTypeName names the JSON type a Go type decodes from.
func jsonTypeName(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "a value"
}

// isAbsent reports whether a raw value was left out or null.
func isAbsent(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// parseFlexID reads an id sent as a number or a numeric string; null or ""
// is 0.
func parseFlexID(raw json.RawMessage) (int64, bool) {
	if isAbsent(raw) {
		return 0, true
	}
	raw = bytes.TrimSpace(raw)
	s := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, false
		}
		if s = strings.TrimSpace(s); s == "" {
			return 0, true
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// parseSupportID reads a child-ticket id, which the reference types as a
// string and its examples send as a number: a number or a numeric string
// is the id, another string is kept as text; null or "" is nothing.
func parseSupportID(raw json.RawMessage) (int64, string, bool) {
	if isAbsent(raw) {
		return 0, "", true
	}
	raw = bytes.TrimSpace(raw)
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, "", false
		}
		t := strings.TrimSpace(s)
		if t == "" {
			return 0, "", true
		}
		if n, err := strconv.ParseInt(t, 10, 64); err == nil {
			return n, "", true
		}
		return 0, s, true
	case 't', 'f', '{', '[':
		return 0, "", false
	}
	if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
		return n, "", true
	}
	return 0, string(raw), true
}

// participantRole is where a participant stands in a request.
type participantRole int

const (
	// opening: a recipient of Create, which opens a conversation of its
	// type ("Side conversation types").
	opening participantRole = iota
	// other: a sender, a reply's recipient, an imported message's
	// participant.
	other
)

// parseParticipant reads one participant object and returns it with its
// type, or the reason it is invalid. The rules are the reference's
// ("Participants", "Side conversation types") and the client's own checks
// beyond it that zendesk.Message.Validate lists, so that the server refuses
// what the client refuses.
func parseParticipant(raw json.RawMessage, role participantRole) (zendesk.Participant, zendesk.Channel, string) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return zendesk.Participant{}, "", "must be a participant object"
	}
	var in participantIn
	if err := json.Unmarshal(raw, &in); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return zendesk.Participant{}, "", fmt.Sprintf("%s must be %s", typeErr.Field, jsonTypeName(typeErr.Type))
		}
		return zendesk.Participant{}, "", "is not a participant object"
	}
	var p zendesk.Participant
	var ok bool
	if p.UserID, ok = parseFlexID(in.UserID); !ok {
		return p, "", "user_id must be an integer"
	}
	if p.SupportGroupID, p.SupportGroupIDText, ok = parseSupportID(in.SupportGroupID); !ok {
		return p, "", "support_group_id must be a string or a number"
	}
	if p.SupportAgentID, p.SupportAgentIDText, ok = parseSupportID(in.SupportAgentID); !ok {
		return p, "", "support_agent_id must be a string or a number"
	}
	p.Name = strings.TrimSpace(deref(in.Name))
	p.Email = strings.TrimSpace(deref(in.Email))
	p.SlackWorkspaceID = strings.TrimSpace(deref(in.SlackWorkspaceID))
	p.SlackChannelID = strings.TrimSpace(deref(in.SlackChannelID))
	p.MSTeamsChannelID = strings.TrimSpace(deref(in.MSTeamsChannelID))

	// name belongs to every type ("Participants"); the other properties
	// decide the type.
	var kinds []zendesk.Channel
	if p.UserID != 0 || p.Email != "" {
		kinds = append(kinds, zendesk.ChannelEmail)
	}
	if p.SlackWorkspaceID != "" || p.SlackChannelID != "" {
		kinds = append(kinds, zendesk.ChannelSlack)
	}
	if p.SupportGroupID != 0 || p.SupportAgentID != 0 || p.SupportGroupIDText != "" || p.SupportAgentIDText != "" {
		kinds = append(kinds, zendesk.ChannelChildTicket)
	}
	if p.MSTeamsChannelID != "" {
		kinds = append(kinds, zendesk.ChannelMSTeams)
	}
	switch len(kinds) {
	case 0:
		if p.Name != "" {
			return p, "", "name needs an email (or set user_id)"
		}
		return p, "", "has no participant fields: set user_id, email (and name), slack_workspace_id (and slack_channel_id), support_group_id (and support_agent_id), or msteams_channel_id"
	case 1:
	default:
		names := make([]string, len(kinds))
		for i, k := range kinds {
			names[i] = string(k)
		}
		return p, "", "mixes fields of participant types " + strings.Join(names, " and ")
	}
	switch kinds[0] {
	case zendesk.ChannelEmail:
		switch {
		case p.UserID < 0:
			return p, "", "user_id must be positive"
		case p.Email != "" && !plausibleEmail(p.Email):
			return p, "", fmt.Sprintf("email %q is invalid", p.Email)
		}
	case zendesk.ChannelSlack:
		switch {
		case p.SlackWorkspaceID == "":
			return p, "", "a Slack participant needs slack_workspace_id"
		case p.SlackChannelID == "" && role == opening:
			return p, "", "a Slack side conversation is opened in a channel: slack_channel_id is required"
		}
	case zendesk.ChannelChildTicket:
		switch {
		case p.SupportGroupID == 0 && p.SupportGroupIDText == "":
			return p, "", "support_agent_id needs support_group_id"
		case p.SupportGroupID < 0 || p.SupportAgentID < 0:
			return p, "", "support_group_id and support_agent_id must be positive"
		}
	}
	return p, kinds[0], ""
}

// plausibleEmail is the client's check: one bare address.
func plausibleEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || r == '<' || r == '>' || r == ',' || r == ';' {
			return false
		}
	}
	return true
}

// parseRecipients reads a message's "to": participants all of one type.
func parseRecipients(raw json.RawMessage, role participantRole) ([]zendesk.Participant, zendesk.Channel, []string) {
	if isAbsent(raw) {
		return nil, "", nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, "", []string{"to must be an array of participants"}
	}
	var out []zendesk.Participant
	var problems []string
	var first zendesk.Channel
	firstIndex := -1
	for i, item := range items {
		p, kind, problem := parseParticipant(item, role)
		if problem != "" {
			problems = append(problems, fmt.Sprintf("to[%d] %s", i, problem))
			continue
		}
		if firstIndex < 0 {
			first, firstIndex = kind, i
		} else if kind != first {
			problems = append(problems, fmt.Sprintf(
				"to[%d] is a %s participant but to[%d] is %s: participant types cannot be mixed in one message",
				i, kind, firstIndex, first))
			continue
		}
		out = append(out, p)
	}
	return out, first, problems
}

// parseState reads a side conversation state, which must be "open" or
// "closed", reporting any other value in details.
func parseState(raw json.RawMessage, details validationErrors) zendesk.State {
	var v string
	if json.Unmarshal(raw, &v) != nil || (v != string(zendesk.StateOpen) && v != string(zendesk.StateClosed)) {
		details.add("state", "state must be open or closed, not %s", bytes.TrimSpace(raw))
		return ""
	}
	return zendesk.State(v)
}

// conversationExternalIDs reads a conversation's external_ids, reporting
// its problems in details.
func conversationExternalIDs(raw json.RawMessage, details validationErrors) map[string]string {
	ids, problems := parseExternalIDs(raw)
	for _, p := range problems {
		details.add("external_ids", "side conversation %s", p)
	}
	return ids
}

// parseExternalIDs reads an external_ids object, whose values must be
// strings.
func parseExternalIDs(raw json.RawMessage) (map[string]string, []string) {
	if isAbsent(raw) {
		return nil, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return nil, []string{"external_ids must be an object of string values"}
	}
	out := make(map[string]string, len(fields))
	var problems []string
	for k, v := range fields {
		v = bytes.TrimSpace(v)
		var s string
		if len(v) == 0 || v[0] != '"' || json.Unmarshal(v, &s) != nil {
			problems = append(problems, fmt.Sprintf("the value of %q must be a string, not %s", k, jsonKind(v)))
			continue
		}
		out[k] = s
	}
	return out, problems
}

func jsonKind(v json.RawMessage) string {
	if len(v) == 0 {
		return "nothing"
	}
	switch v[0] {
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

// messageRules says how a message is checked and completed.
type messageRules struct {
	// opening is set for the first message of Create: it needs a
	// recipient, and its recipients open a conversation of their type.
	opening bool
	// subject is used when the message has none.
	subject string
	// label prefixes the reasons, such as "events[1].message: ".
	label string
}

// parsedMessage is a validated message before its attachments are tied to
// a conversation.
type parsedMessage struct {
	msg     zendesk.Message
	channel zendesk.Channel
	uploads []*upload
}

// parseMessage validates a message and completes it the way Zendesk does:
// html_body from body, preview_text, the agent as the sender when none is
// named. No body is required: the reference asks for none. Problems go
// into details. The caller holds s.mu.
func (s *Server) parseMessage(in *messageIn, rules messageRules, details validationErrors) parsedMessage {
	var pm parsedMessage
	m := &pm.msg
	m.Subject = strings.TrimSpace(in.Subject)
	if m.Subject == "" {
		m.Subject = rules.subject
	}
	m.Body = in.Body
	m.HTMLBody = htmlFromBody(in.Body)
	if m.Subject != "" {
		m.PreviewText = m.Subject
	} else {
		m.PreviewText = preview(m.Body, messagePreviewLength)
	}

	role := other
	if rules.opening {
		role = opening
	}
	to, channel, problems := parseRecipients(in.To, role)
	for _, p := range problems {
		details.add("to", "%s%s", rules.label, p)
	}
	if rules.opening && len(to) == 0 && len(problems) == 0 {
		details.add("to", "%sto needs at least one participant to create a side conversation", rules.label)
	}
	pm.channel = channel
	for _, p := range to {
		m.To = append(m.To, s.resolve(p))
	}

	m.From = s.agent()
	if !isAbsent(in.From) {
		from, kind, problem := parseParticipant(in.From, other)
		switch {
		case problem != "":
			details.add("from", "%sfrom %s", rules.label, problem)
		case from.UserID == 0 && channel != "" && kind != channel:
			// An agent by user_id may write to any type.
			details.add("from", "%sfrom is a %s participant but the recipients are %s: participant types cannot be mixed in one message",
				rules.label, kind, channel)
		default:
			m.From = s.resolve(from)
		}
	}

	ids, problems := parseExternalIDs(in.ExternalIDs)
	for _, p := range problems {
		details.add("external_ids", "%smessage %s", rules.label, p)
	}
	if len(ids) > 0 {
		m.ExternalIDs = ids
	}

	if !isAbsent(in.AttachmentIDs) {
		var attIDs []string
		if err := json.Unmarshal(in.AttachmentIDs, &attIDs); err != nil {
			details.add("attachment_ids", "%sattachment_ids must be an array of strings", rules.label)
		}
		for _, id := range attIDs {
			u, ok := s.uploadsByID[id]
			if !ok {
				details.add("attachment_ids", "%sattachment %q was not found: upload it first", rules.label, id)
				continue
			}
			pm.uploads = append(pm.uploads, u)
		}
	}
	return pm
}

// resolve replaces a reference to the agent the credentials belong to by
// the agent's full participant.
func (s *Server) resolve(p zendesk.Participant) zendesk.Participant {
	if p.Channel() != zendesk.ChannelEmail {
		return p
	}
	if p.UserID == AgentUserID || (p.UserID == 0 && strings.EqualFold(p.Email, s.cfg.email)) {
		return s.agent()
	}
	return p
}

// attachmentsFor turns uploads into the attachments of a message of a
// conversation.
func (s *Server) attachmentsFor(ticketID int64, convID string, uploads []*upload) []zendesk.Attachment {
	var out []zendesk.Attachment
	for _, u := range uploads {
		out = append(out, zendesk.Attachment{
			ID:          u.meta.ID,
			FileName:    u.meta.Name,
			ContentType: u.meta.ContentType,
			ContentURL: s.conversationURL(ticketID, convID) + "/attachments/" + url.PathEscape(u.meta.ID) +
				"/download/" + url.PathEscape(u.meta.Name),
			Size:   u.meta.Size,
			Width:  u.meta.Width,
			Height: u.meta.Height,
		})
	}
	return out
}

func participantKey(p zendesk.Participant) string {
	switch p.Channel() {
	case zendesk.ChannelSlack:
		if p.SlackChannelID == "" { // a Slack user, known by name
			return "slack-user:" + p.SlackWorkspaceID + "/" + p.Name
		}
		return "slack:" + p.SlackWorkspaceID + "/" + p.SlackChannelID
	case zendesk.ChannelChildTicket:
		return "group:" + itoa(p.SupportGroupID) + p.SupportGroupIDText + "/" + itoa(p.SupportAgentID) + p.SupportAgentIDText
	case zendesk.ChannelMSTeams:
		return "teams:" + p.MSTeamsChannelID
	}
	if p.UserID != 0 {
		return "user:" + itoa(p.UserID)
	}
	return "email:" + strings.ToLower(p.Email)
}

// addParticipants appends the participants not yet in list.
func addParticipants(list []zendesk.Participant, more ...zendesk.Participant) []zendesk.Participant {
	seen := make(map[string]bool, len(list))
	for _, p := range list {
		seen[participantKey(p)] = true
	}
	for _, p := range more {
		k := participantKey(p)
		if p == (zendesk.Participant{}) || seen[k] {
			continue
		}
		seen[k] = true
		list = append(list, p)
	}
	return list
}

// htmlFromBody renders a plain-text body the way Zendesk does: escaped, one
// paragraph per block of lines separated by blank lines, line breaks inside
// a paragraph as <br>.
func htmlFromBody(body string) string {
	body = strings.ReplaceAll(body, "\r\n", "\n")
	var b strings.Builder
	b.WriteString(`<div class="zd-comment">`)
	var para []string
	flush := func() {
		if len(para) > 0 {
			b.WriteString("<p>" + strings.Join(para, "<br>") + "</p>")
			para = nil
		}
	}
	for _, line := range strings.Split(body, "\n") {
		if strings.TrimSpace(line) == "" {
			flush()
			continue
		}
		para = append(para, html.EscapeString(line))
	}
	flush()
	b.WriteString("</div>")
	return b.String()
}

// preview is text on one line, cut to n runes.
func preview(text string, n int) string {
	text = strings.Join(strings.Fields(text), " ")
	if utf8.RuneCountInString(text) <= n {
		return text
	}
	return string([]rune(text)[:n])
}

// Answers, shaped as Zendesk writes them: conversation times with +00:00,
// event times with Z, both with milliseconds; unknown values null.

const (
	conversationTimeLayout = "2006-01-02T15:04:05.000-07:00"
	eventTimeLayout        = "2006-01-02T15:04:05.000Z07:00"
)

func timeOut(t time.Time, layout string) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(layout)
}

func stringOrNull(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func idOrNull(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

type conversationOut struct {
	CreatedAt      any               `json:"created_at"`
	ExternalIDs    map[string]string `json:"external_ids"`
	ID             string            `json:"id"`
	MessageAddedAt any               `json:"message_added_at"`
	Participants   []map[string]any  `json:"participants"`
	PreviewText    any               `json:"preview_text"`
	State          string            `json:"state"`
	StateUpdatedAt any               `json:"state_updated_at"`
	Subject        any               `json:"subject"`
	TicketID       any               `json:"ticket_id"`
	UpdatedAt      any               `json:"updated_at"`
	URL            string            `json:"url"`
}

// eventOut is an event as the reference's example shows it: actor,
// created_at, id, message, side_conversation_id, type, via, and updates
// for an update. ticket_id and url are there only with
// WithEventTicketIDAndURL.
type eventOut struct {
	Actor              map[string]any  `json:"actor"`
	CreatedAt          any             `json:"created_at"`
	ID                 string          `json:"id"`
	Message            *messageOut     `json:"message,omitempty"`
	SideConversationID string          `json:"side_conversation_id"`
	TicketID           json.RawMessage `json:"ticket_id,omitempty"`
	Type               string          `json:"type"`
	Updates            map[string]any  `json:"updates,omitempty"`
	URL                string          `json:"url,omitempty"`
	Via                string          `json:"via"`
}

type messageOut struct {
	Attachments []attachmentOut   `json:"attachments"`
	Body        string            `json:"body"`
	ExternalIDs map[string]string `json:"external_ids"`
	From        map[string]any    `json:"from"`
	HTMLBody    string            `json:"html_body"`
	PreviewText string            `json:"preview_text"`
	Subject     any               `json:"subject"`
	To          []map[string]any  `json:"to"`
}

type attachmentOut struct {
	ContentType string `json:"content_type"`
	ContentURL  string `json:"content_url"`
	FileName    string `json:"file_name"`
	Height      int    `json:"height"`
	ID          string `json:"id"`
	Inline      bool   `json:"inline"`
	Size        int64  `json:"size"`
	Width       int    `json:"width"`
}

type uploadOut struct {
	ContentType string `json:"content_type"`
	Height      int    `json:"height"`
	ID          string `json:"id"`
	Name        string `json:"name"`
	Size        int64  `json:"size"`
	Width       int    `json:"width"`
}

// participantOut writes an e-mail participant as the reference's examples
// do (email, name and user_id, null where unknown), and a participant of
// another type with the fields it has, name included.
func participantOut(p zendesk.Participant) map[string]any {
	if p == (zendesk.Participant{}) {
		return nil
	}
	m := map[string]any{}
	if c := p.Channel(); c == zendesk.ChannelEmail || c == "" {
		m["email"] = stringOrNull(p.Email)
		m["name"] = stringOrNull(p.Name)
		m["user_id"] = idOrNull(p.UserID)
		return m
	}
	set := func(key string, v any, ok bool) {
		if ok {
			m[key] = v
		}
	}
	set("user_id", p.UserID, p.UserID != 0)
	set("email", p.Email, p.Email != "")
	set("name", p.Name, p.Name != "")
	set("slack_workspace_id", p.SlackWorkspaceID, p.SlackWorkspaceID != "")
	set("slack_channel_id", p.SlackChannelID, p.SlackChannelID != "")
	set("msteams_channel_id", p.MSTeamsChannelID, p.MSTeamsChannelID != "")
	if p.Channel() == zendesk.ChannelChildTicket {
		m["support_group_id"] = idOrText(p.SupportGroupID, p.SupportGroupIDText)
		m["support_agent_id"] = idOrText(p.SupportAgentID, p.SupportAgentIDText)
	}
	return m
}

// idOrText is a child-ticket id as it came: a number, a text, or null.
func idOrText(id int64, text string) any {
	if id == 0 && text != "" {
		return text
	}
	return idOrNull(id)
}

func participantsOut(ps []zendesk.Participant) []map[string]any {
	out := make([]map[string]any, 0, len(ps))
	for _, p := range ps {
		if m := participantOut(p); m != nil {
			out = append(out, m)
		}
	}
	return out
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func conversationToWire(sc zendesk.SideConversation) conversationOut {
	return conversationOut{
		CreatedAt:      timeOut(sc.CreatedAt, conversationTimeLayout),
		ExternalIDs:    nonNilMap(sc.ExternalIDs),
		ID:             sc.ID,
		MessageAddedAt: timeOut(sc.MessageAddedAt, conversationTimeLayout),
		Participants:   participantsOut(sc.Participants),
		PreviewText:    stringOrNull(sc.PreviewText),
		State:          string(sc.State),
		StateUpdatedAt: timeOut(sc.StateUpdatedAt, conversationTimeLayout),
		Subject:        stringOrNull(sc.Subject),
		TicketID:       idOrNull(sc.TicketID),
		UpdatedAt:      timeOut(sc.UpdatedAt, conversationTimeLayout),
		URL:            sc.URL,
	}
}

// eventToWire writes an event, with ticket_id and url when links is set.
func eventToWire(ev zendesk.Event, links bool) eventOut {
	out := eventOut{
		Actor:              participantOut(ev.Actor),
		CreatedAt:          timeOut(ev.CreatedAt, eventTimeLayout),
		ID:                 ev.ID,
		SideConversationID: ev.SideConversationID,
		Type:               string(ev.Type),
		Via:                ev.Via,
	}
	if links {
		out.TicketID = json.RawMessage("null")
		if ev.TicketID != 0 {
			out.TicketID = strconv.AppendInt(nil, ev.TicketID, 10)
		}
		out.URL = ev.URL
	}
	if ev.Message != nil {
		m := ev.Message
		mo := &messageOut{
			Attachments: make([]attachmentOut, 0, len(m.Attachments)),
			Body:        m.Body,
			ExternalIDs: nonNilMap(m.ExternalIDs),
			From:        participantOut(m.From),
			HTMLBody:    m.HTMLBody,
			PreviewText: m.PreviewText,
			Subject:     stringOrNull(m.Subject),
			To:          participantsOut(m.To),
		}
		for _, a := range m.Attachments {
			mo.Attachments = append(mo.Attachments, attachmentOut{
				ContentType: a.ContentType, ContentURL: a.ContentURL, FileName: a.FileName,
				Height: a.Height, ID: a.ID, Inline: a.Inline, Size: a.Size, Width: a.Width,
			})
		}
		out.Message = mo
	}
	if ev.Type == zendesk.EventUpdate || ev.Updates != (zendesk.Updates{}) {
		out.Updates = updatesToWire(ev.Updates)
	}
	return out
}

func updatesToWire(u zendesk.Updates) map[string]any {
	m := map[string]any{}
	if u.State != "" {
		m["state"] = string(u.State)
	}
	if u.Subject != "" {
		m["subject"] = u.Subject
	}
	return m
}

func eventsToWire(evs []zendesk.Event, links bool) []eventOut {
	out := make([]eventOut, len(evs))
	for i, ev := range evs {
		out[i] = eventToWire(ev, links)
	}
	return out
}
