package zendesk

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const otherConvID = "f0e1d2c3-ece5-11e8-857d-493066fa7b17"

func TestListEvents(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	rec := register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations/"+convID+"/events",
		reply(200, string(fixture(t, "responses/list_events.json"))))

	events, resp, err := c.SideConversations.ListEvents(context.Background(), 42, convID, &ListOptions{PerPage: 4, IncludeEvents: true})
	require.NoError(t, err)
	assert.Equal(t, testRoot+"tickets/42/side_conversations/"+convID+"/events?per_page=4", rec.last(t).URL, "include is not sent for events")
	assertStandardHeaders(t, rec.last(t), false)
	assert.Equal(t, 4, resp.Count)
	require.Len(t, events, 4)

	create := events[0]
	assert.Equal(t, EventCreate, create.Type)
	assert.EqualValues(t, 42, create.TicketID)
	assert.Equal(t, "api", create.Via)
	assert.Contains(t, create.URL, "/events/9e19e100")
	require.NotNil(t, create.Message)
	require.Len(t, create.Message.Attachments, 1)
	att := create.Message.Attachments[0]
	assert.Equal(t, "image.png", att.FileName)
	assert.True(t, att.Inline)
	assert.Contains(t, att.ContentURL, "/download/image.png")
	assert.Equal(t, map[string]string{"message-external": "xyz"}, create.Message.ExternalIDs)

	replyEv := events[1]
	assert.Equal(t, EventReply, replyEv.Type)
	assert.Zero(t, replyEv.TicketID, "ticket_id null decodes to 0")
	assert.Equal(t, Participant{Email: "someone@example.com"}, replyEv.Actor)
	assert.Equal(t, "Have you tried turning it off?", replyEv.Message.Body)

	update := events[2]
	assert.Equal(t, EventUpdate, update.Type)
	assert.Nil(t, update.Message)
	assert.Equal(t, Updates{State: StateClosed, Subject: "Printer fire (solved)"}, update.Updates)

	assert.Equal(t, EventAddEntity, events[3].Type)
}

// Event types are open: a value this package does not know passes through.
func TestUnknownEventTypePassesThrough(t *testing.T) {
	t.Parallel()
	var ev Event
	require.NoError(t, json.Unmarshal([]byte(`{"id":"x","type":"merge-into-ticket","updates":{"state":"open","new_field":1}}`), &ev))
	assert.Equal(t, EventType("merge-into-ticket"), ev.Type)
	assert.Equal(t, StateOpen, ev.Updates.State)
	b, err := json.Marshal(ev)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"type":"merge-into-ticket"`)
}

func TestSideloadedEventsAreGroupedInTimeOrder(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	rec := register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations",
		reply(200, string(fixture(t, "responses/list_side_conversations_with_events.json"))))

	convs, resp, err := c.SideConversations.List(context.Background(), 42, &ListOptions{IncludeEvents: true})
	require.NoError(t, err)
	assert.Equal(t, testRoot+"tickets/42/side_conversations?include=events", rec.last(t).URL)
	require.Len(t, convs, 2)
	assert.Empty(t, resp.UnmatchedEvents)

	first := convs[0]
	require.Len(t, first.Events, 3)
	assert.Equal(t, []EventType{EventCreate, EventReply, EventUpdate}, eventTypes(first.Events))
	for i := 1; i < len(first.Events); i++ {
		assert.False(t, first.Events[i].CreatedAt.Before(first.Events[i-1].CreatedAt))
	}
	second := convs[1]
	require.Len(t, second.Events, 1)
	assert.Equal(t, otherConvID, second.Events[0].SideConversationID)
	assert.Equal(t, Participant{SupportGroupID: 360001}, second.Participants[1], "a numeric-string group id decodes")
	id, ok := second.ChildTicketID()
	assert.True(t, ok)
	assert.EqualValues(t, 43, id)
}

func TestShowSideloadsEvents(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations/"+convID,
		reply(200, string(fixture(t, "responses/show_side_conversation_with_events.json"))))
	sc, resp, err := c.SideConversations.Show(context.Background(), 42, convID, &ShowOptions{IncludeEvents: true})
	require.NoError(t, err)
	assertSampleConversation(t, *sc)
	assert.Equal(t, []EventType{EventCreate, EventReply}, eventTypes(sc.Events), "sorted oldest first")
	assert.Empty(t, resp.UnmatchedEvents)
}

// Events whose conversation is not on the page stay reachable.
func TestUnmatchedSideloadedEventsOnResponse(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	body := `{"side_conversations":[{"id":"a"}],"events":[
		{"id":"e1","side_conversation_id":"a","type":"create","created_at":"2024-01-01T00:00:02Z"},
		{"id":"e2","side_conversation_id":"b","type":"create","created_at":"2024-01-01T00:00:01Z"}],"next_page":null}`
	register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations", reply(200, body))
	convs, resp, err := c.SideConversations.List(context.Background(), 42, &ListOptions{IncludeEvents: true})
	require.NoError(t, err)
	require.Len(t, convs, 1)
	assert.Equal(t, []string{"e1"}, eventIDs(convs[0].Events))
	assert.Equal(t, []string{"e2"}, eventIDs(resp.UnmatchedEvents))
}

func TestIncrementalEventsTerminates(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	// Zendesk's time-based export: every page offers a next page, and the
	// events of the last second come again.
	pages := map[string]string{
		"100": incrementalPage(t, 130, "e1@100", "e2@120", "e3@130"),
		"130": incrementalPage(t, 150, "e3@130", "e4@150"),
		"150": incrementalPage(t, 150, "e4@150"),
	}
	var asked []string
	mt.RegisterNoResponder(func(req *http.Request) (*http.Response, error) {
		assert.Equal(t, "/api/v2/tickets/side_conversations/events", req.URL.Path)
		start := req.URL.Query().Get("start_time")
		asked = append(asked, start)
		body, ok := pages[start]
		if !ok {
			return reply(400, `{"error":"InvalidValue"}`)(req)
		}
		return reply(200, body)(req)
	})

	var ids []string
	for ev, err := range c.SideConversations.IncrementalEvents(context.Background(), time.Unix(100, 0)) {
		require.NoError(t, err)
		ids = append(ids, ev.ID)
	}
	assert.Equal(t, []string{"e1", "e2", "e3", "e4"}, ids, "each event once, oldest first")
	assert.Equal(t, []string{"100", "130", "150"}, asked, "ends on the page that brings nothing new")
}

func TestIncrementalEventsDecodesFixtureAndEndOfStream(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t, WithBaseURL("https://company.zendesk.com"))
	page := string(fixture(t, "responses/incremental_events.json"))
	page = strings.Replace(page, `"count": 3`, `"count": 3, "end_of_stream": true`, 1)
	rec := register(mt, http.MethodGet, "https://company.zendesk.com/api/v2/tickets/side_conversations/events", reply(200, page))
	var got []Event
	for ev, err := range c.SideConversations.IncrementalEvents(context.Background(), time.Unix(1542732000, 0)) {
		require.NoError(t, err)
		got = append(got, ev)
	}
	assert.Len(t, got, 3)
	assert.Equal(t, otherConvID, got[2].SideConversationID)
	assert.Len(t, rec.calls(), 1, "end_of_stream ends the walk")
	assert.Contains(t, rec.last(t).URL, "start_time=1542732000")
}

func TestIncrementalEventsStopsOnBreakAndError(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	rec := register(mt, http.MethodGet, testRoot+"tickets/side_conversations/events",
		reply(200, incrementalPage(t, 130, "e1@100", "e2@130")), reply(403, `{"error":"Forbidden","description":"Admins only"}`))
	n := 0
	for _, err := range c.SideConversations.IncrementalEvents(context.Background(), time.Unix(100, 0)) {
		require.NoError(t, err)
		n++
		break
	}
	assert.Equal(t, 1, n)
	assert.Len(t, rec.calls(), 1)

	var errs []error
	for _, err := range c.SideConversations.IncrementalEvents(context.Background(), time.Unix(100, 0)) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], ErrForbidden)
}

func TestIncrementalEventsRefusesForeignNextPage(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	page := `{"events":[{"id":"e1","created_at":"1970-01-01T00:01:40Z"}],"next_page":"https://evil.example.com/api/v2/tickets/side_conversations/events?start_time=100","end_time":100}`
	rec := register(mt, http.MethodGet, testRoot+"tickets/side_conversations/events", reply(200, page))
	var errs []error
	for _, err := range c.SideConversations.IncrementalEvents(context.Background(), time.Unix(100, 0)) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	require.Len(t, errs, 1)
	var fe *ForeignPageError
	assert.ErrorAs(t, errs[0], &fe)
	assert.Len(t, rec.calls(), 1)
}

// incrementalPage builds an export page from "id@unixseconds" specs.
func incrementalPage(t *testing.T, end int64, specs ...string) string {
	t.Helper()
	var events []string
	for _, s := range specs {
		var id string
		var at int64
		_, err := fmt.Sscanf(strings.Replace(s, "@", " ", 1), "%s %d", &id, &at)
		require.NoError(t, err)
		events = append(events, fmt.Sprintf(`{"id":%q,"side_conversation_id":"c","type":"reply","created_at":%q}`, id, time.Unix(at, 0).UTC().Format(time.RFC3339)))
	}
	return fmt.Sprintf(`{"events":[%s],"next_page":"%stickets/side_conversations/events?start_time=%d","end_time":%d,"count":%d}`,
		strings.Join(events, ","), testRoot, end, end, len(events))
}

func eventTypes(events []Event) []EventType {
	out := make([]EventType, len(events))
	for i, ev := range events {
		out[i] = ev.Type
	}
	return out
}

func eventIDs(events []Event) []string {
	out := make([]string, len(events))
	for i, ev := range events {
		out[i] = ev.ID
	}
	return out
}
