package zendesk

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConstructorsAndChannel(t *testing.T) {
	t.Parallel()
	cases := []struct {
		p    Participant
		want Participant
		ch   Channel
	}{
		{Email("a@example.com"), Participant{Email: "a@example.com"}, ChannelEmail},
		{NamedEmail("a@example.com", "Ann"), Participant{Email: "a@example.com", Name: "Ann"}, ChannelEmail},
		{Agent(7), Participant{UserID: 7}, ChannelEmail},
		{SlackChannel("T1", "C2"), Participant{SlackWorkspaceID: "T1", SlackChannelID: "C2"}, ChannelSlack},
		{SupportGroup(3), Participant{SupportGroupID: 3}, ChannelChildTicket},
		{SupportAgent(3, 4), Participant{SupportGroupID: 3, SupportAgentID: 4}, ChannelChildTicket},
		{TeamsChannel("19:x@thread.tacv2"), Participant{MSTeamsChannelID: "19:x@thread.tacv2"}, ChannelMSTeams},
		{Participant{}, Participant{}, ""},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, tc.p)
		assert.Equal(t, tc.ch, tc.p.Channel(), "%+v", tc.p)
		if tc.ch != "" {
			assert.NoError(t, tc.p.Validate(), "%+v", tc.p)
		}
	}
}

// Child-ticket ids go out as numbers, as Zendesk sends them.
func TestParticipantEncoding(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal([]Participant{SupportAgent(123, 456), Email("a@example.com"), Agent(9)})
	require.NoError(t, err)
	assert.JSONEq(t, `[{"support_group_id":123,"support_agent_id":456},{"email":"a@example.com"},{"user_id":9}]`, string(b))
}

func TestParticipantDecoding(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want Participant
	}{
		{`{"email":"bob@example.com","name":null,"user_id":null}`, Participant{Email: "bob@example.com"}},
		{`{"support_group_id":"123","support_agent_id":"456"}`, Participant{SupportGroupID: 123, SupportAgentID: 456}},
		{`{"support_group_id":123,"support_agent_id":456}`, Participant{SupportGroupID: 123, SupportAgentID: 456}},
		{`{"support_group_id":"","support_agent_id":null}`, Participant{}},
		{`{"user_id":"35436","name":"Johnny Agent"}`, Participant{UserID: 35436, Name: "Johnny Agent"}},
		{`{"slack_workspace_id":"T1","slack_channel_id":"C2","unknown":[1,2]}`, Participant{SlackWorkspaceID: "T1", SlackChannelID: "C2"}},
		{`{"msteams_channel_id":"19:x@thread.tacv2"}`, Participant{MSTeamsChannelID: "19:x@thread.tacv2"}},
		// The reference types the child-ticket ids as strings: any string
		// decodes, and one that is not an integer keeps its text.
		{`{"support_group_id":"12x","support_agent_id":"agent-7"}`, Participant{SupportGroupIDText: "12x", SupportAgentIDText: "agent-7"}},
		{`{"support_group_id":1.5,"support_agent_id":99999999999999999999}`, Participant{SupportGroupIDText: "1.5", SupportAgentIDText: "99999999999999999999"}},
		{`{"support_group_id":" 12 "}`, Participant{SupportGroupID: 12}},
		// A Slack user: a workspace without a channel, with a name.
		{`{"slack_workspace_id":"T1","name":"Ann","user_id":null,"email":null}`, Participant{SlackWorkspaceID: "T1", Name: "Ann"}},
		{`{"name":null,"email":null,"user_id":null}`, Participant{}},
	}
	for _, tc := range cases {
		var p Participant
		require.NoError(t, json.Unmarshal([]byte(tc.in), &p), tc.in)
		assert.Equal(t, tc.want, p, tc.in)
	}
	for _, bad := range []string{`{"support_group_id":true}`, `{"support_agent_id":{}}`, `{"user_id":1.5}`, `{"user_id":true}`, `{"name":3}`, `[]`} {
		var p Participant
		assert.Error(t, json.Unmarshal([]byte(bad), &p), bad)
	}
}

// Every validation rule refuses the request before anything is sent.
func TestCreateValidationSendsNothing(t *testing.T) {
	t.Parallel()
	body := "The smoke is very colorful."
	cases := []struct {
		name  string
		req   CreateRequest
		field string
		mixed bool
	}{
		{"no recipients", CreateRequest{Message: Message{Body: body}}, "message.to", false},
		{"html body only", CreateRequest{Message: Message{HTMLBody: "<p>x</p>", To: []Participant{Email("a@example.com")}}}, "message.html_body", false},
		{"empty participant", CreateRequest{Message: Message{Body: body, To: []Participant{{}}}}, "message.to[0]", false},
		{"name without email", CreateRequest{Message: Message{Body: body, To: []Participant{{Name: "Ann"}}}}, "message.to[0].email", false},
		{"bad email", CreateRequest{Message: Message{Body: body, To: []Participant{Email("not-an-address")}}}, "message.to[0].email", false},
		{"two addresses in one", CreateRequest{Message: Message{Body: body, To: []Participant{Email("a@example.com, b@example.com")}}}, "message.to[0].email", false},
		{"negative user", CreateRequest{Message: Message{Body: body, To: []Participant{Agent(-1)}}}, "message.to[0].user_id", false},
		{"slack without channel", CreateRequest{Message: Message{Body: body, To: []Participant{{SlackWorkspaceID: "T1"}}}}, "message.to[0].slack_channel_id", false},
		{"slack without workspace", CreateRequest{Message: Message{Body: body, To: []Participant{{SlackChannelID: "C1"}}}}, "message.to[0].slack_workspace_id", false},
		{"agent without group", CreateRequest{Message: Message{Body: body, To: []Participant{{SupportAgentID: 4}}}}, "message.to[0].support_group_id", false},
		{"agent text without group", CreateRequest{Message: Message{Body: body, To: []Participant{{SupportAgentIDText: "a"}}}}, "message.to[0].support_group_id", false},
		{"negative agent", CreateRequest{Message: Message{Body: body, To: []Participant{SupportAgent(1, -4)}}}, "message.to[0].support_agent_id", false},
		{"name only", CreateRequest{Message: Message{Body: body, To: []Participant{{Name: "Ann"}, Email("a@example.com")}}}, "message.to[0].email", false},
		{"negative group", CreateRequest{Message: Message{Body: body, To: []Participant{SupportGroup(-2)}}}, "message.to[0].support_group_id", false},
		{"blank teams", CreateRequest{Message: Message{Body: body, To: []Participant{TeamsChannel(" ")}}}, "message.to[0].msteams_channel_id", false},
		{"email and slack", CreateRequest{Message: Message{Body: body, To: []Participant{Email("a@example.com"), SlackChannel("T1", "C1")}}}, "message.to[1]", true},
		{"email and child ticket", CreateRequest{Message: Message{Body: body, To: []Participant{Agent(1), SupportGroup(2)}}}, "message.to[1]", true},
		{"teams and slack", CreateRequest{Message: Message{Body: body, To: []Participant{TeamsChannel("19:a"), SlackChannel("T1", "C1")}}}, "message.to[1]", true},
		{"one participant of two types", CreateRequest{Message: Message{Body: body, To: []Participant{{Email: "a@example.com", SupportGroupID: 3}}}}, "message.to[0]", true},
		{"slack sender to e-mail", CreateRequest{Message: Message{Body: body, From: SlackChannel("T1", "C1"), To: []Participant{Email("a@example.com")}}}, "message.from", true},
		{"e-mail sender to slack", CreateRequest{Message: Message{Body: body, From: Email("b@example.com"), To: []Participant{SlackChannel("T1", "C1")}}}, "message.from", true},
		{"named e-mail sender to teams", CreateRequest{Message: Message{Body: body, From: NamedEmail("b@example.com", "B"), To: []Participant{TeamsChannel("19:a")}}}, "message.from", true},
		{"e-mail sender to child ticket", CreateRequest{Message: Message{Body: body, From: Email("b@example.com"), To: []Participant{SupportGroup(3)}}}, "message.from", true},
		{"teams sender to slack", CreateRequest{Message: Message{Body: body, From: TeamsChannel("19:a"), To: []Participant{SlackChannel("T1", "C1")}}}, "message.from", true},
		{"incomplete sender", CreateRequest{Message: Message{Body: body, From: Participant{Name: "x"}, To: []Participant{Email("a@example.com")}}}, "message.from.email", false},
		{"empty attachment id", CreateRequest{Message: Message{Body: body, To: []Participant{Email("a@example.com")}, AttachmentIDs: []string{""}}}, "message.attachment_ids[0]", false},
		{"idempotency key with newline", CreateRequest{Message: Message{Body: body, To: []Participant{Email("a@example.com")}}, IdempotencyKey: "a\nb"}, "IdempotencyKey", false},
		{"idempotency key clash", CreateRequest{Message: Message{Body: body, To: []Participant{Email("a@example.com")}},
			IdempotencyKey: "k1", ExternalIDs: map[string]string{idempotencyKeyField: "k2"}}, "external_ids." + idempotencyKeyField, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, mt, _ := newMockClient(t)
			res, resp, err := c.SideConversations.Create(context.Background(), 42, tc.req)
			assert.Nil(t, res)
			assert.Nil(t, resp)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.field, ve.Field)
			assert.NotEmpty(t, ve.Reason)
			assert.ErrorIs(t, err, ErrInvalidRequest)
			assert.Equal(t, tc.mixed, errors.Is(err, ErrMixedParticipants))
			assert.Contains(t, err.Error(), tc.field)
			noCalls(t, mt)
		})
	}
}

func TestOtherValidationSendsNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	msg := Message{Body: "hi", To: []Participant{Email("a@example.com")}}
	cases := []struct {
		name  string
		call  func(*Client) error
		field string
	}{
		{"list bad ticket", func(c *Client) error { _, _, err := c.SideConversations.List(ctx, 0, nil); return err }, "ticketID"},
		{"list per_page", func(c *Client) error {
			_, _, err := c.SideConversations.List(ctx, 1, &ListOptions{PerPage: 101})
			return err
		}, "per_page"},
		{"list negative page", func(c *Client) error {
			_, _, err := c.SideConversations.List(ctx, 1, &ListOptions{Page: -1})
			return err
		}, "page"},
		{"list past offset limit", func(c *Client) error {
			_, _, err := c.SideConversations.List(ctx, 1, &ListOptions{Page: 101, PerPage: 100})
			return err
		}, "page"},
		{"show empty id", func(c *Client) error { _, _, err := c.SideConversations.Show(ctx, 1, "", nil); return err }, "id"},
		{"show dot-dot id", func(c *Client) error { _, _, err := c.SideConversations.Show(ctx, 1, "..", nil); return err }, "id"},
		{"show control id", func(c *Client) error { _, _, err := c.SideConversations.Show(ctx, 1, "a\x00b", nil); return err }, "id"},
		{"show negative ticket", func(c *Client) error { _, _, err := c.SideConversations.Show(ctx, -4, "x", nil); return err }, "ticketID"},
		{"update bad state", func(c *Client) error {
			_, _, err := c.SideConversations.Update(ctx, 1, "x", UpdateRequest{State: "pending"})
			return err
		}, "side_conversation.state"},
		{"reply with an e-mail sender to slack", func(c *Client) error {
			_, _, err := c.SideConversations.Reply(ctx, 1, "x", ReplyRequest{Message: Message{Body: "hi", From: Email("b@example.com"), To: []Participant{SlackChannel("T", "C")}}})
			return err
		}, "message.from"},
		{"reply to a channel without a workspace", func(c *Client) error {
			_, _, err := c.SideConversations.Reply(ctx, 1, "x", ReplyRequest{Message: Message{Body: "hi", To: []Participant{{SlackChannelID: "C"}}}})
			return err
		}, "message.to[0].slack_workspace_id"},
		{"reply mixed", func(c *Client) error {
			_, _, err := c.SideConversations.Reply(ctx, 1, "x", ReplyRequest{Message: Message{Body: "hi", To: []Participant{Agent(1), TeamsChannel("19:a")}}})
			return err
		}, "message.to[1]"},
		{"import no events", func(c *Client) error {
			_, _, err := c.SideConversations.Import(ctx, 1, ImportRequest{})
			return err
		}, "events"},
		{"import bad state", func(c *Client) error {
			_, _, err := c.SideConversations.Import(ctx, 1, ImportRequest{SideConversation: ImportedSideConversation{State: "archived"},
				Events: []ImportEvent{{CreatedAt: time.Now(), Message: msg}}})
			return err
		}, "side_conversation.state"},
		{"import event without time", func(c *Client) error {
			_, _, err := c.SideConversations.Import(ctx, 1, ImportRequest{Events: []ImportEvent{{Message: msg}}})
			return err
		}, "events[0].created_at"},
		{"import event with a sender of another type", func(c *Client) error {
			_, _, err := c.SideConversations.Import(ctx, 1, ImportRequest{Events: []ImportEvent{{CreatedAt: time.Now(),
				Message: Message{Body: "hi", From: Email("b@example.com"), To: []Participant{TeamsChannel("19:a")}}}}})
			return err
		}, "events[0].message.from"},
		{"import events empty", func(c *Client) error {
			_, _, err := c.SideConversations.ImportEvents(ctx, 1, "x", nil)
			return err
		}, "events"},
		{"import events mixed", func(c *Client) error {
			_, _, err := c.SideConversations.ImportEvents(ctx, 1, "x", []ImportEvent{{CreatedAt: time.Now(),
				Message: Message{Body: "hi", To: []Participant{Email("a@example.com"), SupportGroup(1)}}}})
			return err
		}, "events[0].message.to[1]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, mt, _ := newMockClient(t)
			err := tc.call(c)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.field, ve.Field)
			assert.ErrorIs(t, err, ErrInvalidRequest)
			noCalls(t, mt)
		})
	}
}

func TestMixedParticipantsSentinel(t *testing.T) {
	t.Parallel()
	assert.ErrorIs(t, ErrMixedParticipants, ErrInvalidRequest)
	err := CreateRequest{Message: Message{Body: "x", To: []Participant{Email("a@example.com"), SlackChannel("T", "C")}}}.Validate()
	assert.ErrorIs(t, err, ErrMixedParticipants)
	assert.ErrorIs(t, err, ErrInvalidRequest)
	assert.Contains(t, err.Error(), "cannot mix participant types")
}

// An agent may open a conversation in any channel; the sender is not mixed in.
func TestAgentSenderAcceptedForEveryChannel(t *testing.T) {
	t.Parallel()
	for _, to := range []Participant{SlackChannel("T", "C"), SupportGroup(1), TeamsChannel("19:a"), Email("a@example.com")} {
		req := CreateRequest{Message: Message{Body: "x", From: Agent(5), To: []Participant{to}}}
		assert.NoError(t, req.Validate(), "%+v", to)
	}
}
