package zendesk_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	zendesk "github.com/sideconv/zendesk"
	"github.com/sideconv/zendesk/zendesktest"
)

// The client and zendesktest refuse the same requests, and those are what
// Zendesk's reference refuses, or what the client documents refusing beyond
// it (zendesk.Message.Validate). Each case is checked three ways: the
// client's validation, the client sending it to the fake, and the raw body
// sent to the fake without the client.

// conformanceCase is one request body and what becomes of it.
type conformanceCase struct {
	name string
	// call is create, reply, update, import or import_events.
	call string
	body string
	// field is what the client names when it refuses the request; "" when
	// the request is accepted.
	field string
	// clientOnly marks a refusal of the client alone: a request it cannot
	// send faithfully, which the fake, ignoring the read-only field,
	// accepts.
	clientOnly bool
}

var conformanceCases = []conformanceCase{
	// "Participants": a to list is required to create a side conversation.
	{name: "create without to", call: "create", body: `{"message":{"body":"b"}}`, field: "message.to"},
	{name: "create with an empty to", call: "create", body: `{"message":{"body":"b","to":[]}}`, field: "message.to"},
	// Nothing says a reply needs one: it goes to the conversation's participants.
	{name: "reply without to", call: "reply", body: `{"message":{"body":"b"}}`},
	{name: "reply with an empty message", call: "reply", body: `{"message":{}}`},

	// "Participants": name is a property of every participant.
	{name: "named Slack channel", call: "create", body: `{"message":{"body":"b","to":[{"slack_workspace_id":"T1","slack_channel_id":"C1","name":"#ops"}]}}`},
	{name: "named Teams channel", call: "create", body: `{"message":{"body":"b","to":[{"msteams_channel_id":"19:a@thread.tacv2","name":"Ops"}]}}`},
	{name: "named support group", call: "create", body: `{"message":{"body":"b","to":[{"support_group_id":360001,"name":"Tier 2"}]}}`},
	{name: "name alone", call: "create", body: `{"message":{"body":"b","to":[{"name":"Ann"}]}}`, field: "message.to[0].email"},
	{name: "empty participant", call: "create", body: `{"message":{"body":"b","to":[{}]}}`, field: "message.to[0]"},

	// "Participants": a Slack user has a workspace id and no channel id; a
	// Slack side conversation is opened in a channel.
	{name: "Slack user opening a conversation", call: "create", body: `{"message":{"body":"b","to":[{"slack_workspace_id":"T1","name":"Ann"}]}}`,
		field: "message.to[0].slack_channel_id"},
	{name: "Slack user as a reply's recipient", call: "reply", body: `{"message":{"body":"b","to":[{"slack_workspace_id":"T1","name":"Ann"}]}}`},
	{name: "Slack user as an imported sender", call: "import",
		body: `{"events":[{"created_at":"2022-10-05T20:47:02.230Z","message":{"body":"b","from":{"slack_workspace_id":"T1","name":"Ann"},"to":[{"slack_workspace_id":"T1","slack_channel_id":"C1"}]}}]}`},
	{name: "Slack channel without a workspace", call: "reply", body: `{"message":{"body":"b","to":[{"slack_channel_id":"C1"}]}}`,
		field: "message.to[0].slack_workspace_id"},

	// "Side conversation types": the child ticket's group, and an agent only with it.
	{name: "support group as text", call: "create", body: `{"message":{"body":"b","to":[{"support_group_id":"tier-2"}]}}`},
	{name: "support group as a numeric string", call: "create", body: `{"message":{"body":"b","to":[{"support_group_id":"123","support_agent_id":"456"}]}}`},
	{name: "agent without a group", call: "create", body: `{"message":{"body":"b","to":[{"support_agent_id":456}]}}`, field: "message.to[0].support_group_id"},

	// "You can't mix participant properties from different side
	// conversation types in the message object", from included; an agent
	// by user_id may send to any type.
	{name: "mixed recipients", call: "create", body: `{"message":{"body":"b","to":[{"email":"a@example.com"},{"slack_workspace_id":"T1","slack_channel_id":"C1"}]}}`,
		field: "message.to[1]"},
	{name: "one participant of two types", call: "create", body: `{"message":{"body":"b","to":[{"email":"a@example.com","support_group_id":5}]}}`,
		field: "message.to[0]"},
	{name: "e-mail sender to Slack", call: "create", body: `{"message":{"body":"b","from":{"email":"b@example.com"},"to":[{"slack_workspace_id":"T1","slack_channel_id":"C1"}]}}`,
		field: "message.from"},
	{name: "named e-mail sender to a child ticket", call: "create", body: `{"message":{"body":"b","from":{"email":"b@example.com","name":"B"},"to":[{"support_group_id":1}]}}`,
		field: "message.from"},
	{name: "Teams sender to Slack", call: "reply", body: `{"message":{"body":"b","from":{"msteams_channel_id":"19:a"},"to":[{"slack_workspace_id":"T1","slack_channel_id":"C1"}]}}`,
		field: "message.from"},
	{name: "e-mail sender to Teams in an import", call: "import_events",
		body:  `{"events":[{"created_at":"2022-10-05T20:47:02.230Z","message":{"body":"b","from":{"email":"b@example.com"},"to":[{"msteams_channel_id":"19:a"}]}}]}`,
		field: "events[0].message.from"},
	{name: "agent sender to Slack", call: "create", body: `{"message":{"body":"b","from":{"user_id":1},"to":[{"slack_workspace_id":"T1","slack_channel_id":"C1"}]}}`},
	{name: "agent as Zendesk names one, to Teams", call: "create",
		body: `{"message":{"body":"b","from":{"user_id":2,"name":"Agent Sally","email":"sally@example.com"},"to":[{"msteams_channel_id":"19:a"}]}}`},
	{name: "e-mail sender without recipients", call: "reply", body: `{"message":{"body":"b","from":{"email":"b@example.com"}}}`},

	// No rule asks for a body.
	{name: "create without a body", call: "create", body: `{"message":{"subject":"s","to":[{"email":"a@example.com"}]}}`},
	{name: "import without a body or recipients", call: "import", body: `{"events":[{"created_at":"2022-10-05T20:47:02.230Z","message":{"subject":"s"}}]}`},
	{name: "import events without recipients", call: "import_events", body: `{"events":[{"created_at":"2022-10-05T20:47:02.230Z","message":{"body":"b"}}]}`},

	// Read-only fields are not sent by the client and ignored by the fake.
	{name: "read-only fields of an answer", call: "create",
		body: `{"message":{"body":"b","html_body":"<p>b</p>","preview_text":"p","attachments":[{"id":"s3-x","file_name":"x.png"}],"to":[{"email":"a@example.com"}]}}`},
	{name: "an HTML body alone", call: "reply", body: `{"message":{"html_body":"<p>b</p>"}}`, field: "message.html_body", clientOnly: true},

	// external_ids: any key, string values.
	{name: "blank external id key", call: "create", body: `{"message":{"body":"b","to":[{"email":"a@example.com"}],"external_ids":{" ":"x"}},"external_ids":{"":"y"}}`},

	// The client's own rules beyond the reference, which the fake keeps too.
	{name: "not an e-mail address", call: "create", body: `{"message":{"body":"b","to":[{"email":"not-an-address"}]}}`, field: "message.to[0].email"},
	{name: "two addresses in one", call: "create", body: `{"message":{"body":"b","to":[{"email":"a@example.com, b@example.com"}]}}`, field: "message.to[0].email"},
	{name: "negative user id", call: "create", body: `{"message":{"body":"b","to":[{"user_id":-5}]}}`, field: "message.to[0].user_id"},
	{name: "blank attachment id", call: "reply", body: `{"message":{"body":"b","attachment_ids":[""]}}`, field: "message.attachment_ids[0]"},
	{name: "import without events", call: "import", body: `{"events":[]}`, field: "events"},
	{name: "import without a time", call: "import", body: `{"events":[{"message":{"body":"b"}}]}`, field: "events[0].created_at"},

	// "Update Side Conversation": all properties are optional; state is
	// open or closed; external_ids is writable.
	{name: "update naming nothing", call: "update", body: `{"side_conversation":{}}`},
	{name: "update of the subject", call: "update", body: `{"side_conversation":{"subject":"Renamed"}}`},
	{name: "update of external ids", call: "update", body: `{"side_conversation":{"external_ids":{"crm":"C-7"}}}`},
	{name: "update to another state", call: "update", body: `{"side_conversation":{"state":"pending"}}`, field: "side_conversation.state"},
	{name: "import in another state", call: "import",
		body: `{"side_conversation":{"state":"archived"},"events":[{"created_at":"2022-10-05T20:47:02.230Z","message":{"body":"b"}}]}`, field: "side_conversation.state"},
}

// conformanceServer is a fake with one e-mail side conversation on ticket 1.
func conformanceServer(t *testing.T) (*zendesktest.Server, *zendesk.Client, string) {
	t.Helper()
	srv, client := startServer(t)
	res, _, err := client.SideConversations.Create(context.Background(), 1, emailRequest("Existing"))
	require.NoError(t, err)
	srv.ResetRequests()
	return srv, client, res.SideConversation.ID
}

func conformancePath(call, id string) string {
	base := "/api/v2/tickets/1/side_conversations"
	switch call {
	case "reply":
		return base + "/" + id + "/reply"
	case "update":
		return base + "/" + id
	case "import":
		return base + "/import"
	case "import_events":
		return base + "/" + id + "/events/import"
	}
	return base
}

// sendThroughClient decodes body into the call's request type, validates
// it, and sends it with the client.
func sendThroughClient(ctx context.Context, t *testing.T, c *zendesk.Client, call, id, body string) (validateErr, sendErr error) {
	t.Helper()
	sc := c.SideConversations
	switch call {
	case "create":
		var req zendesk.CreateRequest
		require.NoError(t, json.Unmarshal([]byte(body), &req))
		_, _, sendErr = sc.Create(ctx, 1, req)
		return req.Validate(), sendErr
	case "reply":
		var req zendesk.ReplyRequest
		require.NoError(t, json.Unmarshal([]byte(body), &req))
		_, _, sendErr = sc.Reply(ctx, 1, id, req)
		return req.Validate(), sendErr
	case "update":
		var root struct {
			SideConversation zendesk.UpdateRequest `json:"side_conversation"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &root))
		_, _, sendErr = sc.Update(ctx, 1, id, root.SideConversation)
		return root.SideConversation.Validate(), sendErr
	case "import":
		var req zendesk.ImportRequest
		require.NoError(t, json.Unmarshal([]byte(body), &req))
		_, _, sendErr = sc.Import(ctx, 1, req)
		return req.Validate(), sendErr
	case "import_events":
		var root struct {
			Events []zendesk.ImportEvent `json:"events"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &root))
		_, _, sendErr = sc.ImportEvents(ctx, 1, id, root.Events)
		// ImportEvents checks its events as Import does.
		return zendesk.ImportRequest{Events: root.Events}.Validate(), sendErr
	}
	t.Fatalf("unknown call %q", call)
	return nil, nil
}

// rawPost sends body to the fake as it is, with the fake's credentials.
func rawPost(t *testing.T, srv *zendesktest.Server, method, path, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, srv.URL()+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	require.NoError(t, srv.Credentials().Authorize(req))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, b
}

func TestClientAndFakeRefuseTheSame(t *testing.T) {
	t.Parallel()
	for _, tc := range conformanceCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			srv, client, id := conformanceServer(t)

			validateErr, sendErr := sendThroughClient(ctx, t, client, tc.call, id, tc.body)
			if tc.field == "" {
				assert.NoError(t, validateErr)
				require.NoError(t, sendErr, "the fake accepts what the client sends")
			} else {
				var ve *zendesk.ValidationError
				require.ErrorAs(t, sendErr, &ve)
				assert.Equal(t, tc.field, ve.Field, ve.Reason)
				require.Error(t, validateErr)
				assert.Equal(t, sendErr.Error(), validateErr.Error())
				assert.Empty(t, srv.Requests(), "nothing was sent")
			}

			method := http.MethodPost
			if tc.call == "update" {
				method = http.MethodPut
			}
			status, answer := rawPost(t, srv, method, conformancePath(tc.call, id), tc.body)
			if tc.field == "" || tc.clientOnly {
				assert.Less(t, status, 300, "the fake refused: %s", answer)
			} else {
				assert.Equal(t, http.StatusUnprocessableEntity, status, "the fake accepted: %s", answer)
			}
		})
	}
}

// Every request example of the reference goes through the client to the
// fake, and raw to the fake, and both are accepted. What the fake received
// from the client is the example, but for the Update example body, a whole
// side conversation of which only state, subject and external_ids are
// writable.
func TestReferenceRequestsThroughClientAndFake(t *testing.T) {
	t.Parallel()
	paths, err := filepath.Glob(filepath.Join("testdata", "requests", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	upload, err := os.ReadFile(filepath.Join("testdata", "responses", "upload_attachment.json"))
	require.NoError(t, err)
	for _, path := range paths {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			body, err := os.ReadFile(path)
			require.NoError(t, err)
			call := strings.SplitN(strings.TrimSuffix(name, ".json"), "_", 2)[0]
			if strings.HasPrefix(name, "import_events") {
				call = "import_events"
			}
			srv, client, id := conformanceServer(t)
			// The examples send the reference's upload id.
			require.NoError(t, srv.Seed(1, upload))

			validateErr, sendErr := sendThroughClient(context.Background(), t, client, call, id, string(body))
			require.NoError(t, validateErr)
			require.NoError(t, sendErr)
			reqs := srv.Requests()
			require.Len(t, reqs, 1)
			if name == "update_example_body.json" {
				assert.JSONEq(t, `{"side_conversation":{"state":"open","subject":"Help, my printer is on fire!","external_ids":{"my_system_id":"abc-123-xyz"}}}`,
					string(reqs[0].Body))
			} else {
				assertSameJSON(t, body, reqs[0].Body)
			}

			method := http.MethodPost
			if call == "update" {
				method = http.MethodPut
			}
			status, answer := rawPost(t, srv, method, conformancePath(call, id), string(body))
			assert.Less(t, status, 300, "%s", answer)
		})
	}
}

// assertSameJSON compares two documents by value, times by instant.
func assertSameJSON(t *testing.T, want, got []byte) {
	t.Helper()
	var w, g any
	require.NoError(t, json.Unmarshal(want, &w))
	require.NoError(t, json.Unmarshal(got, &g))
	wb, _ := json.Marshal(zendesk.NormalizeTimes(w))
	gb, _ := json.Marshal(zendesk.NormalizeTimes(g))
	assert.JSONEq(t, string(wb), string(gb))
}
