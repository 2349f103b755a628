package zendesktest_test

import (
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	zendesk "github.com/sideconv/zendesk"
	"github.com/sideconv/zendesk/zendesktest"
)

func basic(email, token string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(email+"/token:"+token))
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t, zendesktest.WithBearerToken("oauth-access-token"))
	path := "/api/v2/tickets/1/side_conversations"
	cases := []struct {
		name   string
		auth   string
		status int
	}{
		{"none", "", http.StatusUnauthorized},
		{"right", basicAuth(), http.StatusOK},
		{"e-mail in another case", basic("Agent@Example.COM", zendesktest.DefaultAPIToken), http.StatusOK},
		{"wrong token", basic(zendesktest.DefaultEmail, "nope"), http.StatusUnauthorized},
		{"wrong e-mail", basic("other@example.com", zendesktest.DefaultAPIToken), http.StatusUnauthorized},
		{"password instead of token", "Basic " + base64.StdEncoding.EncodeToString([]byte(zendesktest.DefaultEmail+":"+zendesktest.DefaultAPIToken)), http.StatusUnauthorized},
		{"not base64", "Basic !!!", http.StatusUnauthorized},
		{"bearer", "Bearer oauth-access-token", http.StatusOK},
		{"wrong bearer", "Bearer other", http.StatusUnauthorized},
		{"unknown scheme", "Token oauth-access-token", http.StatusUnauthorized},
	}
	for _, tc := range cases {
		a := call(t, srv, http.MethodGet, path, nil, http.Header{"Authorization": {tc.auth}})
		require.Equal(t, tc.status, a.Status, tc.name)
		assert.NotEmpty(t, a.Header.Get("X-Zendesk-Request-Id"), tc.name)
		if tc.status == http.StatusUnauthorized {
			assert.JSONEq(t, `{"error":"Couldn't authenticate you"}`, string(a.Body), tc.name)
		}
	}

	reqs := srv.Requests()
	require.Len(t, reqs, len(cases))
	for i, tc := range cases {
		assert.Equal(t, tc.status == http.StatusOK, reqs[i].Authorized, tc.name)
		assert.Empty(t, reqs[i].Header.Get("Authorization"), "recorded requests never keep credentials")
	}

	// Through the client.
	_, _, err := srv.Client(zendesk.WithoutRetries()).SideConversations.List(ctx(t), 1, nil)
	require.NoError(t, err)
	c, err := zendesk.NewClient("", zendesk.BearerToken("oauth-access-token"), zendesk.WithBaseURL(srv.URL()))
	require.NoError(t, err)
	_, _, err = c.SideConversations.List(ctx(t), 1, nil)
	require.NoError(t, err)
	c, err = zendesk.NewClient("", zendesk.APIToken(zendesktest.DefaultEmail, "wrong"), zendesk.WithBaseURL(srv.URL()), zendesk.WithoutRetries())
	require.NoError(t, err)
	_, _, err = c.SideConversations.List(ctx(t), 1, nil)
	require.ErrorIs(t, err, zendesk.ErrUnauthorized)
}

func TestCustomCredentials(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t, zendesktest.WithCredentials("ops@acme.test", "s3cret"))
	assert.Equal(t, http.StatusUnauthorized, get(t, srv, "/api/v2/tickets/1/side_conversations").Status, "the defaults no longer work")
	a := call(t, srv, http.MethodGet, "/api/v2/tickets/1/side_conversations", nil, http.Header{"Authorization": {basic("ops@acme.test", "s3cret")}})
	assert.Equal(t, http.StatusOK, a.Status)
	assert.Equal(t, http.StatusUnauthorized, call(t, srv, http.MethodGet, "/api/v2/tickets/1/side_conversations", nil,
		http.Header{"Authorization": {"Bearer s3cret"}}).Status, "no bearer token unless configured")

	res, _, err := srv.Client(noWait()).SideConversations.Create(ctx(t), 1, emailCreate("s", "b", "x@example.com"))
	require.NoError(t, err)
	assert.Equal(t, "ops@acme.test", res.Event.Actor.Email, "the agent has the credential e-mail")
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t, zendesktest.WithTickets(1, 2))
	c := srv.Client(noWait())
	sc := mustCreate(t, c, 1, "exists")
	conv := "/api/v2/tickets/1/side_conversations/" + sc.ID

	cases := []struct{ method, path string }{
		{http.MethodGet, "/api/v2/tickets/99/side_conversations"},
		{http.MethodPost, "/api/v2/tickets/99/side_conversations"},
		{http.MethodGet, "/api/v2/tickets/1/side_conversations/unknown"},
		{http.MethodGet, "/api/v2/tickets/2/side_conversations/" + sc.ID}, // another ticket's conversation
		{http.MethodPut, "/api/v2/tickets/1/side_conversations/unknown"},
		{http.MethodPost, "/api/v2/tickets/1/side_conversations/unknown/reply"},
		{http.MethodPost, "/api/v2/tickets/1/side_conversations/unknown/events/import"},
		{http.MethodPost, "/api/v2/tickets/99/side_conversations/import"},
		{http.MethodGet, "/api/v2/tickets/abc/side_conversations"},
		{http.MethodGet, "/api/v2/tickets/0/side_conversations"},
		{http.MethodGet, "/api/v2/users/me"},
		{http.MethodGet, "/side_conversations"},
		{http.MethodGet, conv + "/unknown"},
		{http.MethodDelete, conv},
		{http.MethodGet, conv + "/reply"},
		{http.MethodPost, "/api/v2/tickets/side_conversations/events"},
	}
	for _, tc := range cases {
		a := call(t, srv, tc.method, tc.path, []byte(`{}`), nil)
		m := assertZendeskError(t, a, http.StatusNotFound, "RecordNotFound")
		assert.Equal(t, "Not found", m["description"], "%s %s", tc.method, tc.path)
	}

	_, _, err := c.SideConversations.Show(ctx(t), 1, "unknown", nil)
	require.ErrorIs(t, err, zendesk.ErrNotFound)
	_, _, err = c.SideConversations.List(ctx(t), 99, nil)
	require.ErrorIs(t, err, zendesk.ErrNotFound)
	var apiErr *zendesk.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "RecordNotFound", apiErr.Code)
	assert.Equal(t, "Not found", apiErr.Description)
	assert.NotEmpty(t, apiErr.RequestID)
}

// TestBadRequests sends what the client would have refused to send, and
// checks that the fake refuses it as Zendesk does.
func TestBadRequests(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	c := srv.Client(noWait())
	sc := mustCreate(t, c, 1, "exists")
	list := "/api/v2/tickets/1/side_conversations"
	conv := list + "/" + sc.ID

	type tc struct {
		name, method, path, body string
		status                   int
		code                     string
		detail                   string // the details key of a 422
		description              string // the exact description, when it matters
	}
	cases := []tc{
		{name: "malformed JSON", method: "POST", path: list, body: `{"message":`, status: 400, code: "InvalidJSON"},
		{name: "not an object", method: "POST", path: list, body: `[1,2]`, status: 400, code: "InvalidJSON"},
		{name: "no message", method: "POST", path: list, body: `{}`, status: 400, code: "InvalidParameter",
			description: "Invalid parameter: message is required"},
		{name: "body of the wrong type", method: "POST", path: list, body: `{"message":{"body":5,"to":[{"email":"a@example.com"}]}}`,
			status: 422, code: "RecordInvalid", detail: "body"},
		{name: "no recipients", method: "POST", path: list, body: `{"message":{"body":"b"}}`,
			status: 422, code: "RecordInvalid", detail: "to"},
		{name: "to is not an array", method: "POST", path: list, body: `{"message":{"body":"b","to":{"email":"a@example.com"}}}`,
			status: 422, code: "RecordInvalid", detail: "to"},
		{name: "empty participant", method: "POST", path: list, body: `{"message":{"body":"b","to":[{}]}}`,
			status: 422, code: "RecordInvalid", detail: "to"},
		{name: "name only", method: "POST", path: list, body: `{"message":{"body":"b","to":[{"name":"Bob"}]}}`,
			status: 422, code: "RecordInvalid", detail: "to"},
		{name: "bad e-mail", method: "POST", path: list, body: `{"message":{"body":"b","to":[{"email":"not-an-address"}]}}`,
			status: 422, code: "RecordInvalid", detail: "to"},
		{name: "e-mail of the wrong type", method: "POST", path: list, body: `{"message":{"body":"b","to":[{"email":7}]}}`,
			status: 422, code: "RecordInvalid", detail: "to"},
		{name: "mixed types in to", method: "POST", path: list,
			body:   `{"message":{"body":"b","to":[{"email":"a@example.com"},{"slack_workspace_id":"T1","slack_channel_id":"C1"}]}}`,
			status: 422, code: "RecordInvalid", detail: "to"},
		{name: "mixed types in one participant", method: "POST", path: list,
			body:   `{"message":{"body":"b","to":[{"email":"a@example.com","support_group_id":5}]}}`,
			status: 422, code: "RecordInvalid", detail: "to"},
		{name: "slack without channel", method: "POST", path: list, body: `{"message":{"body":"b","to":[{"slack_workspace_id":"T1"}]}}`,
			status: 422, code: "RecordInvalid", detail: "to"},
		{name: "agent without group", method: "POST", path: list, body: `{"message":{"body":"b","to":[{"support_agent_id":5}]}}`,
			status: 422, code: "RecordInvalid", detail: "to"},
		{name: "slack channel without workspace", method: "POST", path: list, body: `{"message":{"body":"b","to":[{"slack_channel_id":"C1"}]}}`,
			status: 422, code: "RecordInvalid", detail: "to"},
		{name: "group id of the wrong type", method: "POST", path: list, body: `{"message":{"body":"b","to":[{"support_group_id":true}]}}`,
			status: 422, code: "RecordInvalid", detail: "to"},
		{name: "e-mail sender to slack recipients", method: "POST", path: list,
			body:   `{"message":{"body":"b","from":{"email":"b@example.com"},"to":[{"slack_workspace_id":"T1","slack_channel_id":"C1"}]}}`,
			status: 422, code: "RecordInvalid", detail: "from"},
		{name: "slack sender to e-mail recipients", method: "POST", path: list,
			body:   `{"message":{"body":"b","from":{"slack_workspace_id":"T1","slack_channel_id":"C1"},"to":[{"email":"a@example.com"}]}}`,
			status: 422, code: "RecordInvalid", detail: "from"},
		{name: "conversation external id not a string", method: "POST", path: list,
			body:   `{"message":{"body":"b","to":[{"email":"a@example.com"}]},"external_ids":{"n":1}}`,
			status: 422, code: "RecordInvalid", detail: "external_ids"},
		{name: "message external id not a string", method: "POST", path: list,
			body:   `{"message":{"body":"b","to":[{"email":"a@example.com"}],"external_ids":{"ok":"x","flag":true}}}`,
			status: 422, code: "RecordInvalid", detail: "external_ids"},
		{name: "external ids not an object", method: "POST", path: list,
			body:   `{"message":{"body":"b","to":[{"email":"a@example.com"}]},"external_ids":["x"]}`,
			status: 422, code: "RecordInvalid", detail: "external_ids"},
		{name: "attachment ids not strings", method: "POST", path: list,
			body:   `{"message":{"body":"b","to":[{"email":"a@example.com"}],"attachment_ids":[1]}}`,
			status: 422, code: "RecordInvalid", detail: "attachment_ids"},

		{name: "update without side_conversation", method: "PUT", path: conv, body: `{"state":"closed"}`, status: 400, code: "InvalidParameter"},
		{name: "update external ids not strings", method: "PUT", path: conv, body: `{"side_conversation":{"external_ids":{"n":1}}}`,
			status: 422, code: "RecordInvalid", detail: "external_ids"},
		{name: "update to an unknown state", method: "PUT", path: conv, body: `{"side_conversation":{"state":"pending"}}`,
			status: 422, code: "RecordInvalid", detail: "state"},
		{name: "update state of the wrong type", method: "PUT", path: conv, body: `{"side_conversation":{"state":1}}`,
			status: 422, code: "RecordInvalid", detail: "state"},
		{name: "update malformed", method: "PUT", path: conv, body: `{"side_conversation":`, status: 400, code: "InvalidJSON"},

		{name: "reply without message", method: "POST", path: conv + "/reply", body: `{}`, status: 400, code: "InvalidParameter"},
		{name: "reply from another type", method: "POST", path: conv + "/reply",
			body:   `{"message":{"body":"b","from":{"msteams_channel_id":"19:x"},"to":[{"email":"a@example.com"}]}}`,
			status: 422, code: "RecordInvalid", detail: "from"},
		{name: "reply mixing types", method: "POST", path: conv + "/reply",
			body:   `{"message":{"body":"b","to":[{"msteams_channel_id":"19:x"},{"email":"a@example.com"}]}}`,
			status: 422, code: "RecordInvalid", detail: "to"},

		{name: "import without events", method: "POST", path: list + "/import", body: `{"side_conversation":{"subject":"s"}}`,
			status: 400, code: "InvalidParameter"},
		{name: "import with no events", method: "POST", path: list + "/import", body: `{"events":[]}`,
			status: 422, code: "RecordInvalid", detail: "events"},
		{name: "import with a bad time", method: "POST", path: list + "/import",
			body:   `{"events":[{"created_at":"yesterday","message":{"body":"b"}}]}`,
			status: 422, code: "RecordInvalid", detail: "events"},
		{name: "import without a time", method: "POST", path: list + "/import", body: `{"events":[{"message":{"body":"b"}}]}`,
			status: 422, code: "RecordInvalid", detail: "events"},
		{name: "import without a message", method: "POST", path: list + "/import", body: `{"events":[{"created_at":"2022-10-05T20:47:02.23Z"}]}`,
			status: 422, code: "RecordInvalid", detail: "events"},
		{name: "import message mixing types", method: "POST", path: list + "/import",
			body:   `{"events":[{"created_at":"2022-10-05T20:47:02.23Z","message":{"subject":"s","to":[{"support_group_id":1},{"email":"a@example.com"}]}}]}`,
			status: 422, code: "RecordInvalid", detail: "to"},
		{name: "import with an unknown state", method: "POST", path: list + "/import",
			body:   `{"side_conversation":{"state":"archived"},"events":[{"created_at":"2022-10-05T20:47:02.23Z","message":{"body":"b"}}]}`,
			status: 422, code: "RecordInvalid", detail: "state"},
		{name: "import with bad external ids", method: "POST", path: list + "/import",
			body:   `{"side_conversation":{"external_ids":{"n":2}},"events":[{"created_at":"2022-10-05T20:47:02.23Z","message":{"body":"b"}}]}`,
			status: 422, code: "RecordInvalid", detail: "external_ids"},
		{name: "import events without events", method: "POST", path: conv + "/events/import", body: `{}`,
			status: 400, code: "InvalidParameter"},
		{name: "import events with a bad time", method: "POST", path: conv + "/events/import",
			body:   `{"events":[{"created_at":"2022-13-45","message":{"body":"b"}}]}`,
			status: 422, code: "RecordInvalid", detail: "events"},
	}
	// None of them changes anything: checked once every subtest is done.
	t.Cleanup(func() {
		state := srv.SideConversations(1)
		require.Len(t, state, 1)
		assert.Len(t, state[0].Events, 1)
		assert.Equal(t, zendesk.StateOpen, state[0].State)
		assert.Len(t, srv.SentMessages(), 1)
		assert.Len(t, srv.Requests(), 1+len(cases))
	})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := call(t, srv, tc.method, tc.path, []byte(tc.body), nil)
			m := assertZendeskError(t, a, tc.status, tc.code)
			desc, _ := m["description"].(string)
			assert.NotEmpty(t, desc)
			if tc.description != "" {
				assert.Equal(t, tc.description, desc)
			}
			if tc.status == http.StatusUnprocessableEntity {
				assert.Contains(t, detailKeys(t, m), tc.detail)
			} else {
				assert.NotContains(t, m, "details")
			}
		})
	}

}

// TestLenientInput checks input the reference allows although its examples
// show it otherwise (child-ticket ids as strings), and that every problem
// of a request is reported at once.
func TestLenientInput(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	a := post(t, srv, "/api/v2/tickets/1/side_conversations",
		`{"message":{"body":"b","to":[{"support_group_id":"123","support_agent_id":"456"}]}}`)
	require.Equal(t, http.StatusCreated, a.Status, "%s", a.Body)
	to := a.JSON(t)["event"].(map[string]any)["message"].(map[string]any)["to"].([]any)
	assert.Equal(t, map[string]any{"support_group_id": float64(123), "support_agent_id": float64(456)}, to[0], "sent back as numbers")
	sc := srv.SideConversations(1)
	require.Len(t, sc, 1)
	child, ok := sc[0].ChildTicketID()
	require.True(t, ok)
	assert.Equal(t, zendesktest.FirstChildTicketID, child)

	// Any string is a group id, as the reference types it; one that is no
	// number is kept as it came.
	a = post(t, srv, "/api/v2/tickets/1/side_conversations",
		`{"message":{"body":"b","to":[{"support_group_id":"eu-tier-2","name":"EU"}]}}`)
	require.Equal(t, http.StatusCreated, a.Status, "%s", a.Body)
	to = a.JSON(t)["event"].(map[string]any)["message"].(map[string]any)["to"].([]any)
	assert.Equal(t, map[string]any{"support_group_id": "eu-tier-2", "support_agent_id": nil, "name": "EU"}, to[0])

	// Several problems at once are all reported.
	a = post(t, srv, "/api/v2/tickets/1/side_conversations",
		`{"message":{"to":[{}],"from":{"name":"x"}},"external_ids":{"n":1}}`)
	m := assertZendeskError(t, a, http.StatusUnprocessableEntity, "RecordInvalid")
	assert.Subset(t, keys(detailKeys(t, m)), []string{"from", "to", "external_ids"})
}
