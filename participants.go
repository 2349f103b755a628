package zendesk

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Channel is the kind of side conversation a participant belongs to.
type Channel string

// The side conversation channels. A participant with no identifying field
// has the empty Channel.
const (
	ChannelEmail       Channel = "email"
	ChannelSlack       Channel = "slack"
	ChannelChildTicket Channel = "child_ticket"
	ChannelMSTeams     Channel = "msteams"
)

// Participant is a sender or recipient of a side conversation message. Its
// fields determine the side conversation's type; build one with the
// constructors (Email, NamedEmail, Agent, SlackChannel, SupportGroup,
// SupportAgent, TeamsChannel) rather than by hand. Name may accompany a
// participant of any type: the reference lists it among the properties of
// every participant ("Participants").
//
// Decoding never fails a response over a value the reference allows: null
// names, e-mail addresses and ids decode as the zero value (0 is never a
// Zendesk id, so a zero id and a null one mean the same), user_id is read
// from a number or a numeric string, and support_group_id and
// support_agent_id, which the reference types as strings while its examples
// send numbers, are read from either; a value that is not an integer keeps
// its text in SupportGroupIDText or SupportAgentIDText, and is encoded back
// as that string. A Slack user (a workspace id without a channel id) decodes
// as it is.
type Participant struct {
	UserID           int64  `json:"user_id,omitempty"`
	Name             string `json:"name,omitempty"`
	Email            string `json:"email,omitempty"`
	SlackWorkspaceID string `json:"slack_workspace_id,omitempty"`
	SlackChannelID   string `json:"slack_channel_id,omitempty"`
	SupportGroupID   int64  `json:"support_group_id,omitempty"`
	SupportAgentID   int64  `json:"support_agent_id,omitempty"`
	MSTeamsChannelID string `json:"msteams_channel_id,omitempty"`

	// SupportGroupIDText and SupportAgentIDText hold support_group_id and
	// support_agent_id as Zendesk sent them when they are not integers,
	// such as "abc" or 1.5; the integer field is 0 then. Set at most one of
	// SupportGroupID and SupportGroupIDText (and of the agent pair).
	SupportGroupIDText string `json:"-"`
	SupportAgentIDText string `json:"-"`
}

// Email returns an e-mail participant for an address outside Zendesk.
func Email(address string) Participant { return Participant{Email: address} }

// NamedEmail returns an e-mail participant with a display name.
func NamedEmail(address, name string) Participant {
	return Participant{Email: address, Name: name}
}

// Agent returns an e-mail participant for an existing Zendesk user.
func Agent(userID int64) Participant { return Participant{UserID: userID} }

// SlackChannel returns a participant for a channel of a Slack workspace.
func SlackChannel(workspaceID, channelID string) Participant {
	return Participant{SlackWorkspaceID: workspaceID, SlackChannelID: channelID}
}

// SupportGroup returns a child-ticket participant: the child ticket is
// assigned to the group.
func SupportGroup(groupID int64) Participant { return Participant{SupportGroupID: groupID} }

// SupportAgent returns a child-ticket participant assigned to an agent of a
// group.
func SupportAgent(groupID, agentID int64) Participant {
	return Participant{SupportGroupID: groupID, SupportAgentID: agentID}
}

// TeamsChannel returns a participant for a Microsoft Teams channel.
func TeamsChannel(channelID string) Participant { return Participant{MSTeamsChannelID: channelID} }

// Channel returns the side conversation type the participant's fields
// select, or "" when no identifying field is set (a name alone identifies
// no one). A participant with fields of several types reports the first of
// Slack, child ticket, Teams and e-mail; validation refuses such a
// participant.
func (p Participant) Channel() Channel {
	switch {
	case p.isSlack():
		return ChannelSlack
	case p.isChildTicket():
		return ChannelChildTicket
	case p.MSTeamsChannelID != "":
		return ChannelMSTeams
	case p.isEmail():
		return ChannelEmail
	}
	return ""
}

func (p Participant) isSlack() bool { return p.SlackWorkspaceID != "" || p.SlackChannelID != "" }

func (p Participant) isEmail() bool { return p.UserID != 0 || p.Email != "" }

func (p Participant) isChildTicket() bool {
	return p.SupportGroupID != 0 || p.SupportAgentID != 0 || p.SupportGroupIDText != "" || p.SupportAgentIDText != ""
}

// channels lists every type the participant has a field of.
func (p Participant) channels() []Channel {
	var out []Channel
	if p.isEmail() {
		out = append(out, ChannelEmail)
	}
	if p.isSlack() {
		out = append(out, ChannelSlack)
	}
	if p.isChildTicket() {
		out = append(out, ChannelChildTicket)
	}
	if p.MSTeamsChannelID != "" {
		out = append(out, ChannelMSTeams)
	}
	return out
}

// participantRole is where a participant stands in a request, which decides
// what it needs.
type participantRole int

const (
	// roleOpening is a recipient of Create: it opens a conversation of its
	// type, so it needs every property the reference lists for that type.
	roleOpening participantRole = iota
	// roleOther is a sender, a recipient of a reply, or a participant of
	// an imported message: it names someone of a conversation that exists,
	// so a Slack user (a workspace without a channel) will do.
	roleOther
)

// Validate reports whether p could open a side conversation: properties of
// exactly one type, complete as the reference's table of side conversation
// types lists them. Message.Validate lists every rule and its source.
func (p Participant) Validate() error { return p.validate("participant", roleOpening) }

func (p Participant) validate(field string, role participantRole) error {
	kinds := p.channels()
	switch len(kinds) {
	case 0:
		if p.Name != "" {
			return invalid(field+".email", "is required with a name (or set user_id): a name alone names no one")
		}
		return invalid(field, "is empty: set an e-mail address, user id, Slack workspace, support group or Teams channel")
	case 1:
	default:
		return &ValidationError{
			Field:  field,
			Reason: fmt.Sprintf("mixes %s fields in one participant", joinChannels(kinds)),
			kind:   ErrMixedParticipants,
		}
	}
	switch kinds[0] {
	case ChannelEmail:
		if p.UserID < 0 {
			return invalid(field+".user_id", "must be positive")
		}
		if p.Email != "" {
			if reason := checkEmail(p.Email); reason != "" {
				return invalid(field+".email", reason)
			}
		}
	case ChannelSlack:
		if p.SlackWorkspaceID == "" {
			return invalid(field+".slack_workspace_id", "is required: every Slack user or channel belongs to a workspace")
		}
		if p.SlackChannelID == "" && role == roleOpening {
			return invalid(field+".slack_channel_id", "is required to open a Slack side conversation (in a channel)")
		}
	case ChannelChildTicket:
		if err := checkSupportID(field+".support_group_id", p.SupportGroupID, p.SupportGroupIDText); err != nil {
			return err
		}
		if p.SupportGroupID == 0 && strings.TrimSpace(p.SupportGroupIDText) == "" {
			return invalid(field+".support_group_id", "is required for a child ticket (an agent needs its group)")
		}
		if err := checkSupportID(field+".support_agent_id", p.SupportAgentID, p.SupportAgentIDText); err != nil {
			return err
		}
	case ChannelMSTeams:
		if strings.TrimSpace(p.MSTeamsChannelID) == "" {
			return invalid(field+".msteams_channel_id", "is blank")
		}
	}
	return nil
}

// checkSupportID checks one child-ticket id, given as a number or a text.
func checkSupportID(field string, id int64, text string) error {
	switch {
	case id < 0:
		return invalid(field, "must be positive")
	case id != 0 && text != "":
		return invalidf(field, "is set twice: %d and %q", id, text)
	case id == 0 && text != "" && strings.TrimSpace(text) == "":
		return invalid(field, "is blank")
	}
	return nil
}

func joinChannels(kinds []Channel) string {
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = string(k)
	}
	return strings.Join(parts, " and ")
}

// checkEmail returns why address is not a usable e-mail address, or "".
// It is deliberately loose: Zendesk decides what it accepts; this catches
// the mistakes that would otherwise be sent.
func checkEmail(address string) string {
	at := strings.LastIndexByte(address, '@')
	if at <= 0 || at == len(address)-1 {
		return fmt.Sprintf("%q is not an e-mail address", address)
	}
	for _, r := range address {
		if r <= ' ' || r == 0x7f || r == '<' || r == '>' || r == ',' || r == ';' {
			return fmt.Sprintf("%q is not a single bare e-mail address", address)
		}
	}
	return ""
}

// validateParticipants checks the recipients (and sender) of one message:
// each participant complete, and all of one type. A sender may be an agent
// by user_id whatever the recipients' type; any other sender must be of the
// recipients' type.
func validateParticipants(field string, from Participant, to []Participant, opening bool) error {
	role := roleOther
	if opening {
		role = roleOpening
		if len(to) == 0 {
			return invalid(field+".to", "needs at least one recipient to create a side conversation")
		}
	}
	var first Channel
	for i, p := range to {
		name := field + ".to[" + strconv.Itoa(i) + "]"
		if err := p.validate(name, role); err != nil {
			return err
		}
		c := p.Channel()
		if i == 0 {
			first = c
			continue
		}
		if c != first {
			return &ValidationError{
				Field: name,
				Reason: fmt.Sprintf("is of type %s, but %s.to[0] is of type %s: one message cannot mix participant types",
					c, field, first),
				kind: ErrMixedParticipants,
			}
		}
	}
	if from == (Participant{}) {
		return nil
	}
	if err := from.validate(field+".from", roleOther); err != nil {
		return err
	}
	if c := from.Channel(); from.UserID == 0 && first != "" && c != first {
		return &ValidationError{
			Field: field + ".from",
			Reason: fmt.Sprintf("is of type %s, but the recipients are of type %s: one message cannot mix participant types "+
				"(an agent may send by user_id to any type)", c, first),
			kind: ErrMixedParticipants,
		}
	}
	return nil
}

// MarshalJSON writes the participant's fields that are set; a child-ticket
// id held as text goes out as the string it came as.
func (p Participant) MarshalJSON() ([]byte, error) {
	return json.Marshal(p.request())
}

// Message is one message of a side conversation: the first one (Create), a
// reply (Reply), or a historical one (Import). On requests set Subject,
// Body, To (and optionally From), ExternalIDs and AttachmentIDs; on
// responses Zendesk also fills HTMLBody, PreviewText and Attachments.
//
// HTMLBody, PreviewText and Attachments are never sent: the reference shows
// them only in Zendesk's answers (and marks preview_text read-only). A
// Message read from Zendesk may be passed to Create, Reply or Import, and
// only its writable fields go out. See Validate for the one case in which
// HTMLBody is refused instead of left out.
type Message struct {
	Subject     string        `json:"subject,omitempty"`
	Body        string        `json:"body,omitempty"`
	HTMLBody    string        `json:"html_body,omitempty"`
	PreviewText string        `json:"preview_text,omitempty"`
	From        Participant   `json:"from,omitzero"`
	To          []Participant `json:"to,omitempty"`
	// ExternalIDs is metadata of your own; Zendesk requires string values.
	// A number or boolean Zendesk sends here decodes as its JSON text (42 as
	// "42"), and null as "".
	ExternalIDs map[string]string `json:"external_ids,omitempty"`
	// AttachmentIDs are ids returned by UploadAttachment (request side).
	AttachmentIDs []string `json:"attachment_ids,omitempty"`
	// Attachments are the files of a message Zendesk returns (response
	// side); they are not sent.
	Attachments []Attachment `json:"attachments,omitempty"`
}

// Validate checks a message as Reply, Import and ImportEvents send it;
// Create adds the rules marked "Create". A message the rules refuse is not
// sent, and the error is a *ValidationError naming the field by its JSON
// path. Each rule names its source: a section of Zendesk's Side
// Conversations API reference, or, for a rule this client adds, its reason.
//
// From the reference:
//
//   - Create: "to" holds at least one participant ("Participants": "To
//     create a side conversation, the message object's to property must
//     contain an array of one or more participant objects"). A reply needs
//     none: it goes to the conversation's participants.
//   - Every participant has properties of one side conversation type only:
//     e-mail (user_id, email), Slack (slack_workspace_id, slack_channel_id),
//     child ticket (support_group_id, support_agent_id) or Microsoft Teams
//     (msteams_channel_id); name may go with any of them ("Participants",
//     "Side conversation types").
//   - An e-mail participant has a user_id or an email; a name goes with an
//     email ("Side conversation types").
//   - A Slack participant has a workspace id, which a Slack user and a Slack
//     channel both have ("Participants"). Create: a recipient also has a
//     channel id, as a Slack side conversation is opened in a channel
//     ("Creating a Slack side conversation").
//   - A child-ticket participant has a support_group_id, and a
//     support_agent_id only with one ("Side conversation types").
//   - A Teams participant has a msteams_channel_id ("Side conversation
//     types").
//   - The recipients of one message are of one type, and so is its sender
//     ("You can't mix participant properties from different side
//     conversation types in the message object"); an agent named by user_id
//     may send to any type, as a user id is how the reference names an
//     agent ("Creating an email side conversation").
//
// Added by this client, beyond the reference:
//
//   - An email is a single bare address (text@text, no spaces, commas or
//     angle brackets): a list or a display name in it would reach the wrong
//     people or no one.
//   - user_id, support_group_id and support_agent_id are not negative:
//     Zendesk's ids are positive, and 0 means "not set" in Go.
//   - A child-ticket id is set either as a number or as text, not both, and
//     its text is not blank: otherwise it is unclear what to send.
//   - An attachment id is not blank: it names an upload UploadAttachment
//     made.
//   - HTMLBody without Body is refused: html_body is not sent (see
//     Message), and the message would otherwise go out empty.
//
// No rule asks for a body: the reference has none, and Zendesk decides
// whether a message without one is acceptable.
func (m Message) Validate() error { return m.validate("message", false) }

// validate checks a message about to be sent; opening is true for the first
// message of Create.
func (m Message) validate(field string, opening bool) error {
	if strings.TrimSpace(m.Body) == "" && strings.TrimSpace(m.HTMLBody) != "" {
		return invalid(field+".html_body", "is not sent (the reference shows html_body only in answers): put the text in Body")
	}
	if err := validateParticipants(field, m.From, m.To, opening); err != nil {
		return err
	}
	for i, id := range m.AttachmentIDs {
		if strings.TrimSpace(id) == "" {
			return invalid(field+".attachment_ids["+strconv.Itoa(i)+"]", "is empty")
		}
	}
	return nil
}

// messageRequest is a Message as requests carry it: its writable fields
// only, in types without MarshalJSON methods, so that a request is encoded
// in one pass.
type messageRequest struct {
	Subject       string               `json:"subject,omitempty"`
	Body          string               `json:"body,omitempty"`
	From          participantRequest   `json:"from,omitzero"`
	To            []participantRequest `json:"to,omitempty"`
	ExternalIDs   map[string]string    `json:"external_ids,omitempty"`
	AttachmentIDs []string             `json:"attachment_ids,omitempty"`
}

func (m Message) request() messageRequest {
	out := messageRequest{
		Subject:       m.Subject,
		Body:          m.Body,
		From:          m.From.request(),
		ExternalIDs:   m.ExternalIDs,
		AttachmentIDs: m.AttachmentIDs,
	}
	if len(m.To) > 0 {
		out.To = make([]participantRequest, len(m.To))
		for i, p := range m.To {
			out.To[i] = p.request()
		}
	}
	return out
}

// participantRequest is a Participant as requests carry it (see
// Participant.MarshalJSON, which writes the same).
type participantRequest struct {
	UserID           int64   `json:"user_id,omitempty"`
	Name             string  `json:"name,omitempty"`
	Email            string  `json:"email,omitempty"`
	SlackWorkspaceID string  `json:"slack_workspace_id,omitempty"`
	SlackChannelID   string  `json:"slack_channel_id,omitempty"`
	SupportGroupID   childID `json:"support_group_id,omitzero"`
	SupportAgentID   childID `json:"support_agent_id,omitzero"`
	MSTeamsChannelID string  `json:"msteams_channel_id,omitempty"`
}

func (p Participant) request() participantRequest {
	return participantRequest{
		UserID:           p.UserID,
		Name:             p.Name,
		Email:            p.Email,
		SlackWorkspaceID: p.SlackWorkspaceID,
		SlackChannelID:   p.SlackChannelID,
		SupportGroupID:   childID{id: p.SupportGroupID, text: p.SupportGroupIDText},
		SupportAgentID:   childID{id: p.SupportAgentID, text: p.SupportAgentIDText},
		MSTeamsChannelID: p.MSTeamsChannelID,
	}
}

// childID is a child-ticket id as requests carry it: a number, or the text
// Zendesk sent it as. The zero childID is left out.
type childID struct {
	id   int64
	text string
}

func (c childID) MarshalJSON() ([]byte, error) {
	if c.id != 0 || c.text == "" {
		return strconv.AppendInt(nil, c.id, 10), nil
	}
	return json.Marshal(c.text)
}
