package zdsc

import (
	"fmt"
	"net/mail"
	"strconv"
	"strings"

	zendesk "github.com/sideconv/zendesk"
)

// recipientForms is how --to is written, for help and errors.
const recipientForms = `email:ADDRESS, "email:NAME <ADDRESS>", agent:USER_ID, slack:WORKSPACE/CHANNEL, group:GROUP_ID, group:GROUP_ID/agent:AGENT_ID or teams:CHANNEL_ID`

// parseRecipient reads one --to value into a participant. It checks the
// form only; whether the recipients go together is the SDK's to say.
func parseRecipient(s string) (zendesk.Participant, error) {
	kind, rest, ok := strings.Cut(s, ":")
	if !ok {
		if strings.Contains(s, "@") {
			return zendesk.Participant{}, fmt.Errorf("%q has no type: write email:%s", s, s)
		}
		return zendesk.Participant{}, fmt.Errorf("%q has no type: write %s", s, recipientForms)
	}
	switch kind {
	case "email":
		return parseEmailRecipient(s, rest)
	case "agent":
		id, err := positiveID(rest)
		if err != nil {
			return zendesk.Participant{}, fmt.Errorf("%q: the agent's user id %w", s, err)
		}
		return zendesk.Agent(id), nil
	case "slack":
		workspace, channel, ok := strings.Cut(rest, "/")
		if !ok || workspace == "" || channel == "" || strings.Contains(channel, "/") {
			return zendesk.Participant{}, fmt.Errorf("%q: write slack:WORKSPACE_ID/CHANNEL_ID, such as slack:T01/C02", s)
		}
		return zendesk.SlackChannel(workspace, channel), nil
	case "group":
		groupText, agentText, hasAgent := strings.Cut(rest, "/")
		group, err := positiveID(groupText)
		if err != nil {
			return zendesk.Participant{}, fmt.Errorf("%q: the group id %w", s, err)
		}
		if !hasAgent {
			return zendesk.SupportGroup(group), nil
		}
		idText, ok := strings.CutPrefix(agentText, "agent:")
		if !ok {
			return zendesk.Participant{}, fmt.Errorf("%q: write group:GROUP_ID/agent:AGENT_ID, such as group:360/agent:77", s)
		}
		agent, err := positiveID(idText)
		if err != nil {
			return zendesk.Participant{}, fmt.Errorf("%q: the agent id %w", s, err)
		}
		return zendesk.SupportAgent(group, agent), nil
	case "teams":
		if strings.TrimSpace(rest) == "" {
			return zendesk.Participant{}, fmt.Errorf("%q: write teams:CHANNEL_ID, such as teams:19:abc@thread.tacv2", s)
		}
		return zendesk.TeamsChannel(rest), nil
	}
	return zendesk.Participant{}, fmt.Errorf("%q: unknown type %q: write %s", s, kind, recipientForms)
}

// parseEmailRecipient reads "ADDRESS" or "NAME <ADDRESS>" after "email:".
func parseEmailRecipient(s, rest string) (zendesk.Participant, error) {
	rest = strings.TrimSpace(rest)
	if rest == "" {
		return zendesk.Participant{}, fmt.Errorf("%q: the address is missing", s)
	}
	addr, err := mail.ParseAddress(rest)
	if err != nil {
		return zendesk.Participant{}, fmt.Errorf("%q is not an e-mail address (%s); write email:ADDRESS or \"email:NAME <ADDRESS>\"",
			s, strings.TrimPrefix(err.Error(), "mail: "))
	}
	if addr.Name != "" {
		return zendesk.NamedEmail(addr.Address, addr.Name), nil
	}
	return zendesk.Email(addr.Address), nil
}

func positiveID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("must be a positive number, not %q", s)
	}
	return id, nil
}
