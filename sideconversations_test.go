package zendesk

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	sampleTime   = time.Date(2018, 11, 20, 16, 58, 36, 453_000_000, time.UTC)
	eventTime    = time.Date(2017, 10, 27, 17, 56, 16, 678_000_000, time.UTC)
	importedTime = time.Date(2022, 10, 5, 20, 47, 2, 230_000_000, time.UTC)
)

const attachmentID = "s3-d2a3111e-26d9-4e1c-88b4-cf7c0649d81d"

// assertSampleConversation checks the conversation every example response
// of the reference page carries.
func assertSampleConversation(t *testing.T, sc SideConversation) {
	t.Helper()
	assert.Equal(t, convID, sc.ID)
	assert.Equal(t, "Help, my printer is on fire!", sc.Subject)
	assert.Equal(t, "I was trying to print an email when the printer suddenly started burning", sc.PreviewText)
	assert.Equal(t, StateOpen, sc.State)
	assert.Equal(t, "https://company.zendesk.com/api/v2/tickets/1/side_conversations/"+convID, sc.URL)
	assert.Equal(t, map[string]string{"my_system_id": "abc-123-xyz"}, sc.ExternalIDs)
	for _, ts := range []time.Time{sc.CreatedAt, sc.UpdatedAt, sc.MessageAddedAt, sc.StateUpdatedAt} {
		assert.True(t, ts.Equal(sampleTime), "time %s", ts)
	}
	assert.Equal(t, []Participant{
		{Email: "johnny@example.com", Name: "Johnny Agent", UserID: 35436},
		{Email: "bob@example.com"},
	}, sc.Participants)
}

// assertSampleEvent checks the create event of the Create and Import examples.
func assertSampleEvent(t *testing.T, ev Event) {
	t.Helper()
	assert.Equal(t, "9e19e100-abd5-11e8-b66e-af698c6d193c", ev.ID)
	assert.Equal(t, EventCreate, ev.Type)
	assert.Equal(t, "api", ev.Via)
	assert.Equal(t, convID, ev.SideConversationID)
	assert.True(t, ev.CreatedAt.Equal(eventTime))
	assert.Equal(t, Participant{Email: "sally@example.com", Name: "Agent Sally", UserID: 2}, ev.Actor)
	require.NotNil(t, ev.Message)
	m := ev.Message
	assert.Equal(t, "The smoke is very colorful.", m.Body)
	assert.Equal(t, `<div class="zd-comment"><p>The smoke is very colorful.</p></div>`, m.HTMLBody)
	assert.Equal(t, "My printer is on fire!", m.PreviewText)
	assert.Equal(t, "My printer is on fire!", m.Subject)
	assert.Equal(t, map[string]string{"message-external": "xyz"}, m.ExternalIDs)
	assert.Equal(t, Participant{Email: "sally@example.com", Name: "Agent Sally", UserID: 2}, m.From)
	assert.Equal(t, []Participant{{Email: "someone@example.com"}}, m.To)
	assert.Equal(t, []Attachment{{
		ID:          attachmentID,
		FileName:    "image.png",
		ContentType: "image/png",
		ContentURL:  "http://www.example.com/api/v2/tickets/42/side_conversations/" + convID + "/attachments/" + attachmentID + "/download/image.png",
		Size:        50645,
		Width:       406,
		Height:      214,
		Inline:      false,
	}}, m.Attachments)
}

func TestDecodeReferenceObject(t *testing.T) {
	t.Parallel()
	var sc SideConversation
	require.NoError(t, json.Unmarshal(fixture(t, "responses/side_conversation.json"), &sc))
	assertSampleConversation(t, sc)
	assert.EqualValues(t, 12345, sc.TicketID)
}

func TestList(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	rec := register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations",
		reply(200, string(fixture(t, "responses/list_side_conversations.json")),
			"X-Zendesk-Request-Id", "req-1", "X-Rate-Limit", "700", "X-Rate-Limit-Remaining", "699", "ratelimit-reset", "37"))

	got, resp, err := c.SideConversations.List(context.Background(), 42, &ListOptions{Page: 2, PerPage: 50})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assertSampleConversation(t, got[0])
	assert.Empty(t, got[0].Events)
	assert.Equal(t, 1, resp.Count)
	assert.Empty(t, resp.NextPage)
	assert.Empty(t, resp.PreviousPage)
	assert.Equal(t, "req-1", resp.RequestID)
	assert.Equal(t, RateLimit{Limit: 700, Remaining: 699, Reset: 37 * time.Second}, resp.Rate)
	assert.Equal(t, 1, resp.Attempts)
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	req := rec.last(t)
	assert.Equal(t, testRoot+"tickets/42/side_conversations?page=2&per_page=50", req.URL)
	assertStandardHeaders(t, req, false)
	assert.Empty(t, req.Body)
}

func TestListWithoutOptionsSendsNoQuery(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	rec := register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations", reply(200, `{"side_conversations":[],"next_page":null,"previous_page":null,"count":0}`))
	got, _, err := c.SideConversations.List(context.Background(), 42, nil)
	require.NoError(t, err)
	assert.Empty(t, got)
	assert.Equal(t, testRoot+"tickets/42/side_conversations", rec.last(t).URL)
}

func TestShow(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	rec := register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations/"+convID,
		reply(200, string(fixture(t, "responses/show_side_conversation.json"))))

	sc, resp, err := c.SideConversations.Show(context.Background(), 42, convID, nil)
	require.NoError(t, err)
	assertSampleConversation(t, *sc)
	assert.Equal(t, 1, resp.Attempts)
	req := rec.last(t)
	assert.Equal(t, testRoot+"tickets/42/side_conversations/"+convID, req.URL)
	assertStandardHeaders(t, req, false)
}

func TestShowIncludeEventsSendsInclude(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	rec := register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations/"+convID,
		reply(200, string(fixture(t, "responses/show_side_conversation.json"))))
	_, _, err := c.SideConversations.Show(context.Background(), 42, convID, &ShowOptions{IncludeEvents: true})
	require.NoError(t, err)
	assert.Equal(t, testRoot+"tickets/42/side_conversations/"+convID+"?include=events", rec.last(t).URL)
}

func TestCreate(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	rec := register(mt, http.MethodPost, testRoot+"tickets/42/side_conversations",
		reply(201, string(fixture(t, "responses/create_side_conversation.json"))))

	res, resp, err := c.SideConversations.Create(context.Background(), 42, CreateRequest{
		Message: Message{
			Subject:       "My printer is on fire!",
			Body:          "The smoke is very colorful.",
			To:            []Participant{Email("someone@example.com")},
			ExternalIDs:   map[string]string{"message-external": "xyz"},
			AttachmentIDs: []string{attachmentID},
		},
		ExternalIDs: map[string]string{"conversation-external": "zyx"},
	})
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, resp.StatusCode)
	assertSampleConversation(t, res.SideConversation)
	assertSampleEvent(t, res.Event)
	assert.Equal(t, Updates{}, res.Updates)

	req := rec.last(t)
	assert.Equal(t, testRoot+"tickets/42/side_conversations", req.URL)
	assertStandardHeaders(t, req, true)
	assertJSONEquivalent(t, fixture(t, "requests/create_example.json"), req.Body)
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	rec := register(mt, http.MethodPut, testRoot+"tickets/42/side_conversations/"+convID,
		reply(200, string(fixture(t, "responses/update_side_conversation.json"))))

	sc, _, err := c.SideConversations.Update(context.Background(), 42, convID, UpdateRequest{State: StateClosed})
	require.NoError(t, err)
	assertSampleConversation(t, *sc)
	req := rec.last(t)
	assert.Equal(t, http.MethodPut, req.Method)
	assertStandardHeaders(t, req, true)
	assertJSONEquivalent(t, fixture(t, "requests/update_example.json"), req.Body)
	assertJSONEquivalent(t, fixture(t, "requests/update_curl.json"), req.Body)
}

// The reference's "Example body" for Update is a whole side conversation;
// of it, only state, subject and external_ids are writable, and those are
// what an UpdateRequest carries.
func TestUpdateReferenceExampleBody(t *testing.T) {
	t.Parallel()
	var root updateRoot
	require.NoError(t, json.Unmarshal(fixture(t, "requests/update_example_body.json"), &root))
	assert.Equal(t, UpdateRequest{State: StateOpen, Subject: "Help, my printer is on fire!",
		ExternalIDs: map[string]string{"my_system_id": "abc-123-xyz"}}, root.SideConversation)

	c, mt, _ := newMockClient(t)
	rec := register(mt, http.MethodPut, testRoot+"tickets/42/side_conversations/"+convID,
		reply(200, string(fixture(t, "responses/update_side_conversation.json"))))
	_, _, err := c.SideConversations.Update(context.Background(), 42, convID, root.SideConversation)
	require.NoError(t, err)
	assert.JSONEq(t, `{"side_conversation":{"state":"open","subject":"Help, my printer is on fire!","external_ids":{"my_system_id":"abc-123-xyz"}}}`, string(rec.last(t).Body))
}

func TestReply(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	rec := register(mt, http.MethodPost, testRoot+"tickets/42/side_conversations/"+convID+"/reply",
		reply(200, string(fixture(t, "responses/reply_side_conversation.json"))))

	res, resp, err := c.SideConversations.Reply(context.Background(), 42, convID, ReplyRequest{Message: Message{
		Subject: "My printer is on fire!",
		Body:    "The smoke is very colorful.",
		To:      []Participant{Email("someone@example.com")},
	}})
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assertSampleConversation(t, res.SideConversation)
	assert.Empty(t, res.Event.ID, "the documented reply answer has no event")

	req := rec.last(t)
	assertStandardHeaders(t, req, true)
	assertJSONEquivalent(t, fixture(t, "requests/reply_example.json"), req.Body)
	assertJSONEquivalent(t, fixture(t, "requests/reply_example_body.json"), req.Body)
}

// Zendesk may add the event to a reply's answer; it is decoded too.
func TestReplyDecodesEventWhenPresent(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	register(mt, http.MethodPost, testRoot+"tickets/42/side_conversations/"+convID+"/reply",
		reply(200, string(fixture(t, "responses/create_side_conversation.json"))))
	res, _, err := c.SideConversations.Reply(context.Background(), 42, convID, ReplyRequest{Message: Message{
		Body: "The smoke is very colorful.", To: []Participant{Email("someone@example.com")},
	}})
	require.NoError(t, err)
	assertSampleEvent(t, res.Event)
}

func TestImport(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	rec := register(mt, http.MethodPost, testRoot+"tickets/42/side_conversations/import",
		reply(201, string(fixture(t, "responses/import_side_conversation.json"))))

	res, _, err := c.SideConversations.Import(context.Background(), 42, ImportRequest{
		SideConversation: ImportedSideConversation{
			Subject:     "I have problems",
			State:       StateOpen,
			ExternalIDs: map[string]string{"threadExternalId": "thread-external"},
		},
		Events: []ImportEvent{{
			CreatedAt: importedTime,
			Message: Message{
				Subject:       "My printer is on fire!",
				Body:          "The smoke is very colorful.",
				To:            []Participant{Email("someone@example.com")},
				From:          Email("someone-else@example.com"),
				ExternalIDs:   map[string]string{"message-external": "xyz"},
				AttachmentIDs: []string{attachmentID},
			},
		}},
	})
	require.NoError(t, err)
	assertSampleConversation(t, res.SideConversation)
	assertSampleEvent(t, res.Event)

	req := rec.last(t)
	assertStandardHeaders(t, req, true)
	assertJSONEquivalent(t, fixture(t, "requests/import_example.json"), req.Body)
	// Zendesk's own format: UTC with milliseconds.
	assert.Contains(t, string(req.Body), `"created_at":"2022-10-05T20:47:02.230Z"`)
}

func TestImportEvents(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	rec := register(mt, http.MethodPost, testRoot+"tickets/42/side_conversations/"+convID+"/events/import",
		reply(201, string(fixture(t, "responses/import_events.json"))))

	res, _, err := c.SideConversations.ImportEvents(context.Background(), 42, convID, []ImportEvent{{
		CreatedAt: importedTime.In(time.FixedZone("CEST", 2*3600)),
		Message: Message{
			Subject: "My printer is on fire!",
			Body:    "The smoke is very colorful.",
			To:      []Participant{Email("someone@example.com")},
			From:    Email("someone-else@example.com"),
		},
	}})
	require.NoError(t, err)
	assertSampleConversation(t, res.SideConversation)
	assertSampleEvent(t, res.Event)

	req := rec.last(t)
	assertStandardHeaders(t, req, true)
	assertJSONEquivalent(t, fixture(t, "requests/import_events_example_body.json"), req.Body)
	assertJSONEquivalent(t, fixture(t, "requests/import_events_curl.json"), req.Body)
}

// Every request example of the reference page decodes into our request
// types and is sent back byte-for-byte equivalent.
func TestReferenceRequestExamplesRoundTrip(t *testing.T) {
	t.Parallel()
	type sender func(context.Context, *Client, []byte) error
	create := func(ctx context.Context, c *Client, body []byte) error {
		var req CreateRequest
		if err := json.Unmarshal(body, &req); err != nil {
			return err
		}
		_, _, err := c.SideConversations.Create(ctx, 42, req)
		return err
	}
	replyTo := func(ctx context.Context, c *Client, body []byte) error {
		var req ReplyRequest
		if err := json.Unmarshal(body, &req); err != nil {
			return err
		}
		_, _, err := c.SideConversations.Reply(ctx, 42, convID, req)
		return err
	}
	importConv := func(ctx context.Context, c *Client, body []byte) error {
		var req ImportRequest
		if err := json.Unmarshal(body, &req); err != nil {
			return err
		}
		_, _, err := c.SideConversations.Import(ctx, 42, req)
		return err
	}
	importEvents := func(ctx context.Context, c *Client, body []byte) error {
		var root importEventsRoot
		if err := json.Unmarshal(body, &root); err != nil {
			return err
		}
		_, _, err := c.SideConversations.ImportEvents(ctx, 42, convID, root.Events)
		return err
	}
	update := func(ctx context.Context, c *Client, body []byte) error {
		var root updateRoot
		if err := json.Unmarshal(body, &root); err != nil {
			return err
		}
		_, _, err := c.SideConversations.Update(ctx, 42, convID, root.SideConversation)
		return err
	}
	cases := []struct {
		file   string
		method string
		path   string
		send   sender
	}{
		{"create_example.json", http.MethodPost, "tickets/42/side_conversations", create},
		{"create_email_user_id.json", http.MethodPost, "tickets/42/side_conversations", create},
		{"create_email_named.json", http.MethodPost, "tickets/42/side_conversations", create},
		{"create_slack.json", http.MethodPost, "tickets/42/side_conversations", create},
		{"create_child_ticket_group.json", http.MethodPost, "tickets/42/side_conversations", create},
		{"create_child_ticket_agent.json", http.MethodPost, "tickets/42/side_conversations", create},
		{"create_msteams.json", http.MethodPost, "tickets/42/side_conversations", create},
		{"create_example_body.json", http.MethodPost, "tickets/42/side_conversations", create},
		{"create_curl.json", http.MethodPost, "tickets/42/side_conversations", create},
		{"update_example.json", http.MethodPut, "tickets/42/side_conversations/" + convID, update},
		{"update_curl.json", http.MethodPut, "tickets/42/side_conversations/" + convID, update},
		{"reply_example.json", http.MethodPost, "tickets/42/side_conversations/" + convID + "/reply", replyTo},
		{"reply_example_body.json", http.MethodPost, "tickets/42/side_conversations/" + convID + "/reply", replyTo},
		{"reply_curl.json", http.MethodPost, "tickets/42/side_conversations/" + convID + "/reply", replyTo},
		{"import_example.json", http.MethodPost, "tickets/42/side_conversations/import", importConv},
		{"import_example_body.json", http.MethodPost, "tickets/42/side_conversations/import", importConv},
		{"import_curl.json", http.MethodPost, "tickets/42/side_conversations/import", importConv},
		{"import_events_example.json", http.MethodPost, "tickets/42/side_conversations/" + convID + "/events/import", importEvents},
		{"import_events_example_body.json", http.MethodPost, "tickets/42/side_conversations/" + convID + "/events/import", importEvents},
		{"import_events_curl.json", http.MethodPost, "tickets/42/side_conversations/" + convID + "/events/import", importEvents},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			c, mt, _ := newMockClient(t)
			answer := "responses/create_side_conversation.json"
			if tc.method == http.MethodPut {
				answer = "responses/update_side_conversation.json"
			}
			rec := register(mt, tc.method, testRoot+tc.path, reply(200, string(fixture(t, answer))))
			body := fixture(t, "requests/"+tc.file)
			require.NoError(t, tc.send(context.Background(), c, body))
			assertJSONEquivalent(t, body, rec.last(t).Body)
		})
	}
}

func TestChildTicketID(t *testing.T) {
	t.Parallel()
	cases := []struct {
		ids  map[string]string
		want int64
		ok   bool
	}{
		{map[string]string{"targetTicketId": "1234"}, 1234, true},
		{map[string]string{"targetTicketId": " 77 "}, 77, true},
		{map[string]string{"targetTicketId": "abc"}, 0, false},
		{map[string]string{"targetTicketId": "-3"}, 0, false},
		{map[string]string{"other": "1"}, 0, false},
		{nil, 0, false},
	}
	for _, tc := range cases {
		got, ok := SideConversation{ExternalIDs: tc.ids}.ChildTicketID()
		assert.Equal(t, tc.want, got, "%v", tc.ids)
		assert.Equal(t, tc.ok, ok, "%v", tc.ids)
	}
}

// assertStandardHeaders checks what every request carries.
func assertStandardHeaders(t *testing.T, req captured, hasBody bool) {
	t.Helper()
	assert.Equal(t, testBasic, req.Header.Get("Authorization"))
	assert.Equal(t, "application/json", req.Header.Get("Accept"))
	assert.Equal(t, "sideconv-zendesk-go/"+Version, req.Header.Get("User-Agent"))
	if hasBody {
		assert.Equal(t, "application/json", req.Header.Get("Content-Type"))
	} else {
		assert.Empty(t, req.Header.Get("Content-Type"))
	}
}
