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
// SupportAgent, TeamsChannel) rather than by hand.
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
// select, or "" when no identifying field is set. A participant with fields
// of several types reports the first of Slack, child ticket, Teams and
// e-mail; validation refuses such a participant.
func (p Participant) Channel() Channel {
	switch {
	case p.SlackWorkspaceID != "" || p.SlackChannelID != "":
		return ChannelSlack
	case p.isChildTicket():
		return ChannelChildTicket
	case p.MSTeamsChannelID != "":
		return ChannelMSTeams
	case p.UserID != 0 || p.Email != "" || p.Name != "":
		return ChannelEmail
	}
	return ""
}

func (p Participant) isChildTicket() bool {
	return p.SupportGroupID != 0 || p.SupportAgentID != 0 || p.SupportGroupIDText != "" || p.SupportAgentIDText != ""
}

// channels lists every type the participant has a field of.
func (p Participant) channels() []Channel {
	var out []Channel
	if p.UserID != 0 || p.Email != "" || p.Name != "" {
		out = append(out, ChannelEmail)
	}
	if p.SlackWorkspaceID != "" || p.SlackChannelID != "" {
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

// Validate reports whether p is a complete participant of exactly one type:
// an e-mail participant has a user id or an address (a name only with an
// address); Slack needs workspace and channel; a child ticket needs its
// group (and optionally an agent of it); Teams needs the channel id.
func (p Participant) Validate() error { return p.validate("participant") }

func (p Participant) validate(field string) error {
	kinds := p.channels()
	switch len(kinds) {
	case 0:
		return invalid(field, "is empty: set an e-mail address, user id, Slack channel, support group or Teams channel")
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
		if p.UserID == 0 && p.Email == "" {
			return invalid(field+".email", "is required with a name (or set user_id)")
		}
		if p.Email != "" {
			if reason := checkEmail(p.Email); reason != "" {
				return invalid(field+".email", reason)
			}
		}
	case ChannelSlack:
		if p.SlackWorkspaceID == "" {
			return invalid(field+".slack_workspace_id", "is required for a Slack channel")
		}
		if p.SlackChannelID == "" {
			return invalid(field+".slack_channel_id", "is required for a Slack channel")
		}
	case ChannelChildTicket:
		if p.SupportGroupID <= 0 {
			if p.SupportGroupID == 0 {
				return invalid(field+".support_group_id", "is required for a child ticket (an agent needs its group)")
			}
			return invalid(field+".support_group_id", "must be positive")
		}
		if p.SupportAgentID < 0 {
			return invalid(field+".support_agent_id", "must be positive")
		}
	case ChannelMSTeams:
		if strings.TrimSpace(p.MSTeamsChannelID) == "" {
			return invalid(field+".msteams_channel_id", "is blank")
		}
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
// each participant complete, and all of one type. A sender of the e-mail
// type (an agent) may write into any channel; any other sender must match
// the recipients' type.
func validateParticipants(field string, from Participant, to []Participant, requireTo bool) error {
	if len(to) == 0 {
		if requireTo {
			return invalid(field+".to", "needs at least one recipient")
		}
	}
	var first Channel
	for i, p := range to {
		name := field + ".to[" + strconv.Itoa(i) + "]"
		if err := p.validate(name); err != nil {
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
	if err := from.validate(field + ".from"); err != nil {
		return err
	}
	if c := from.Channel(); c != ChannelEmail && first != "" && c != first {
		return &ValidationError{
			Field:  field + ".from",
			Reason: fmt.Sprintf("is of type %s, but the recipients are of type %s: one message cannot mix participant types", c, first),
			kind:   ErrMixedParticipants,
		}
	}
	return nil
}

// MarshalJSON writes the participant's fields that are set; a child-ticket
// id held as text goes out as the string it came as.
func (p Participant) MarshalJSON() ([]byte, error) {
	type plain Participant // the fields and tags, without this method
	if p.SupportGroupIDText == "" && p.SupportAgentIDText == "" {
		return json.Marshal(plain(p))
	}
	return json.Marshal(struct {
		plain
		SupportGroupID any `json:"support_group_id,omitempty"`
		SupportAgentID any `json:"support_agent_id,omitempty"`
	}{plain(p), idOrText(p.SupportGroupID, p.SupportGroupIDText), idOrText(p.SupportAgentID, p.SupportAgentIDText)})
}

func idOrText(id int64, text string) any {
	switch {
	case id != 0:
		return id
	case text != "":
		return text
	}
	return nil
}

// UnmarshalJSON decodes a participant as Participant describes.
func (p *Participant) UnmarshalJSON(data []byte) error {
	var w participantWire
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*p = w.value()
	return nil
}

// Message is one message of a side conversation: the first one (Create), a
// reply (Reply), or a historical one (Import). On requests set Subject, Body
// or HTMLBody, To (and optionally From), ExternalIDs and AttachmentIDs; on
// responses Zendesk also fills HTMLBody, PreviewText and Attachments.
type Message struct {
	Subject     string        `json:"subject,omitempty"`
	Body        string        `json:"body,omitempty"`
	HTMLBody    string        `json:"html_body,omitempty"`
	PreviewText string        `json:"preview_text,omitempty"`
	From        Participant   `json:"from,omitzero"`
	To          []Participant `json:"to,omitempty"`
	// ExternalIDs is metadata of your own; Zendesk requires string values.
	ExternalIDs map[string]string `json:"external_ids,omitempty"`
	// AttachmentIDs are ids returned by UploadAttachment (request side).
	AttachmentIDs []string `json:"attachment_ids,omitempty"`
	// Attachments are the files of a message Zendesk returns (response side).
	Attachments []Attachment `json:"attachments,omitempty"`
}

// validate checks a message about to be sent; requireTo is false for
// imported messages, whose recipients are history rather than instructions.
func (m Message) validate(field string, requireTo bool) error {
	if strings.TrimSpace(m.Body) == "" && strings.TrimSpace(m.HTMLBody) == "" {
		return invalid(field+".body", "is required (or html_body)")
	}
	if err := validateParticipants(field, m.From, m.To, requireTo); err != nil {
		return err
	}
	if err := validateExternalIDs(field+".external_ids", m.ExternalIDs); err != nil {
		return err
	}
	for i, id := range m.AttachmentIDs {
		if strings.TrimSpace(id) == "" {
			return invalid(field+".attachment_ids["+strconv.Itoa(i)+"]", "is empty")
		}
	}
	if len(m.Attachments) > 0 {
		return invalid(field+".attachments", "is filled by Zendesk; send uploaded ids in AttachmentIDs")
	}
	return nil
}

func validateExternalIDs(field string, ids map[string]string) error {
	for k := range ids {
		if strings.TrimSpace(k) == "" {
			return invalid(field, "has an empty key")
		}
	}
	return nil
}

// UnmarshalJSON decodes a message, keeping external_ids whose values are not
// strings as their JSON text.
func (m *Message) UnmarshalJSON(data []byte) error {
	var w messageWire
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*m = w.value()
	return nil
}
