package zendesktest_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	zendesk "github.com/sideconv/zendesk"
	"github.com/sideconv/zendesk/zendesktest"
)

const (
	fixtureConvID  = "8566255a-ece5-11e8-857d-493066fa7b17"
	fixtureEventID = "9e19e100-abd5-11e8-b66e-af698c6d193c"
)

// fixtureIDs lists what a response document names: conversations, events
// by conversation, and uploads.
type fixtureIDs struct {
	convs   map[string]bool
	events  map[string][]string // conversation id -> event ids
	uploads []string
}

func idsOf(t *testing.T, data []byte) fixtureIDs {
	t.Helper()
	var doc map[string]any
	require.NoError(t, json.Unmarshal(data, &doc))
	ids := fixtureIDs{convs: map[string]bool{}, events: map[string][]string{}}
	addConv := func(v any) {
		if m, ok := v.(map[string]any); ok {
			ids.convs[m["id"].(string)] = true
		}
	}
	var single string
	if list, ok := doc["side_conversations"].([]any); ok {
		for _, sc := range list {
			addConv(sc)
		}
	}
	if sc, ok := doc["side_conversation"].(map[string]any); ok {
		addConv(sc)
		single = sc["id"].(string)
	}
	if id, ok := doc["id"].(string); ok {
		if _, upload := doc["name"]; upload {
			ids.uploads = append(ids.uploads, id)
		} else {
			ids.convs[id] = true
		}
	}
	addEvent := func(v any) {
		m := v.(map[string]any)
		conv, _ := m["side_conversation_id"].(string)
		if conv == "" {
			conv = single
		}
		ids.convs[conv] = true
		ids.events[conv] = append(ids.events[conv], m["id"].(string))
	}
	if list, ok := doc["events"].([]any); ok {
		for _, ev := range list {
			addEvent(ev)
		}
	}
	if ev, ok := doc["event"].(map[string]any); ok {
		addEvent(ev)
	}
	return ids
}

// TestSeedResponseFixtures loads every response fixture into a fresh server
// and finds everything it names: through the state accessors and through
// the client.
func TestSeedResponseFixtures(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("..", "testdata", "responses", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)

	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			want := idsOf(t, data)
			srv := zendesktest.Start(t, zendesktest.WithTickets())
			require.NoError(t, srv.Seed(7, data))

			convs := srv.SideConversations(7)
			require.Len(t, convs, len(want.convs))
			c := srv.Client(noWait())
			for _, sc := range convs {
				require.True(t, want.convs[sc.ID], sc.ID)
				assert.Equal(t, int64(7), sc.TicketID, "the seeded ticket wins over the document's")
				assert.Equal(t, srv.URL()+"/api/v2/tickets/7/side_conversations/"+sc.ID, sc.URL)
				assert.False(t, sc.CreatedAt.IsZero())
				assert.NotEmpty(t, sc.State)
				var evIDs []string
				for _, ev := range sc.Events {
					evIDs = append(evIDs, ev.ID)
					assert.Equal(t, sc.ID, ev.SideConversationID)
					assert.Equal(t, int64(7), ev.TicketID)
				}
				assert.ElementsMatch(t, want.events[sc.ID], evIDs, sc.ID)

				got, _, err := c.SideConversations.Show(ctx(t), 7, sc.ID, &zendesk.ShowOptions{IncludeEvents: true})
				require.NoError(t, err, sc.ID)
				assert.Equal(t, sc.Subject, got.Subject)
				assert.Equal(t, sc.Participants, got.Participants)
				assert.Len(t, got.Events, len(evIDs))
			}
			var uploads []string
			for _, u := range srv.Uploads() {
				uploads = append(uploads, u.ID)
			}
			assert.Equal(t, want.uploads, uploads)
			assert.Empty(t, srv.SentMessages(), "seeded events were not sent")

			// Loading it again changes nothing.
			require.NoError(t, srv.Seed(7, data))
			assert.Equal(t, convs, srv.SideConversations(7))
			assert.Len(t, srv.Uploads(), len(want.uploads))
		})
	}
}

func TestSeedBareConversation(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	require.NoError(t, srv.Seed(1, fixture(t, "responses", "side_conversation.json")))
	convs := srv.SideConversations(1)
	require.Len(t, convs, 1)
	sc := convs[0]
	created := time.Date(2018, 11, 20, 16, 58, 36, 453_000_000, time.UTC)
	assert.Equal(t, fixtureConvID, sc.ID)
	assert.Equal(t, int64(1), sc.TicketID, "not the document's 12345")
	assert.Equal(t, "Help, my printer is on fire!", sc.Subject)
	assert.Equal(t, "I was trying to print an email when the printer suddenly started burning", sc.PreviewText)
	assert.Equal(t, zendesk.StateOpen, sc.State)
	assert.Equal(t, map[string]string{"my_system_id": "abc-123-xyz"}, sc.ExternalIDs)
	assert.Equal(t, []zendesk.Participant{
		{UserID: 35436, Name: "Johnny Agent", Email: "johnny@example.com"},
		{Email: "bob@example.com"},
	}, sc.Participants)
	sameTime(t, created, sc.CreatedAt, "created_at")
	sameTime(t, created, sc.MessageAddedAt, "message_added_at")
	assert.Empty(t, sc.Events)

	require.NoError(t, srv.Seed(1, fixture(t, "responses", "create_side_conversation.json")))
	events := srv.Events(1, fixtureConvID)
	require.Len(t, events, 1)
	ev := events[0]
	assert.Equal(t, fixtureEventID, ev.ID)
	assert.Equal(t, zendesk.EventCreate, ev.Type)
	assert.Equal(t, zendesk.Participant{UserID: 2, Name: "Agent Sally", Email: "sally@example.com"}, ev.Actor)
	require.NotNil(t, ev.Message)
	require.Len(t, ev.Message.Attachments, 1)
	assert.Equal(t, "image.png", ev.Message.Attachments[0].FileName)
	assert.Equal(t, srv.URL()+"/api/v2/tickets/1/side_conversations/"+fixtureConvID+"/events/"+fixtureEventID, ev.URL)
}

// TestSeedEventsOnly rebuilds a conversation that a document names only
// through its events.
func TestSeedEventsOnly(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	require.NoError(t, srv.Seed(1, fixture(t, "responses", "list_events.json")))
	convs := srv.SideConversations(1)
	require.Len(t, convs, 1)
	sc := convs[0]
	assert.Equal(t, fixtureConvID, sc.ID)
	assert.Equal(t, "Printer fire (solved)", sc.Subject, "renamed by the update event")
	assert.Equal(t, zendesk.StateClosed, sc.State, "closed by the update event")
	sameTime(t, time.Date(2018, 11, 20, 16, 58, 36, 453_000_000, time.UTC), sc.CreatedAt, "created_at")
	sameTime(t, time.Date(2018, 11, 20, 17, 10, 2, 0, time.UTC), sc.MessageAddedAt, "message_added_at")
	sameTime(t, time.Date(2018, 11, 20, 17, 30, 0, 0, time.UTC), sc.StateUpdatedAt, "state_updated_at")
	sameTime(t, time.Date(2018, 11, 20, 17, 31, 0, 0, time.UTC), sc.UpdatedAt, "updated_at")
	assert.Equal(t, []zendesk.Participant{
		{UserID: 2, Name: "Agent Sally", Email: "sally@example.com"},
		{Email: "someone@example.com"},
	}, sc.Participants)
	require.Len(t, sc.Events, 4)
	assert.Equal(t, zendesk.EventAddEntity, sc.Events[3].Type, "unknown types pass through")

	// The events list endpoint serves them back.
	m := get(t, srv, "/api/v2/tickets/1/side_conversations/"+fixtureConvID+"/events").JSON(t)
	assert.Equal(t, float64(4), m["count"])
}

func TestSeedUpload(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	require.NoError(t, srv.Seed(1, fixture(t, "responses", "upload_attachment.json")))
	require.Equal(t, []zendesk.UploadedAttachment{{
		ID: "s3-d2a3111e-26d9-4e1c-88b4-cf7c0649d81d", Name: "image.png", ContentType: "image/png",
		Size: 50645, Width: 406, Height: 214,
	}}, srv.Uploads())

	req := emailCreate("s", "b", "x@example.com")
	req.Message.AttachmentIDs = []string{"s3-d2a3111e-26d9-4e1c-88b4-cf7c0649d81d"}
	res, _, err := srv.Client(noWait()).SideConversations.Create(ctx(t), 1, req)
	require.NoError(t, err)
	require.Len(t, res.Event.Message.Attachments, 1)
	att := res.Event.Message.Attachments[0]
	assert.Equal(t, int64(50645), att.Size)
	assert.Equal(t, 406, att.Width)
	assert.Equal(t, 214, att.Height)
}

func TestSeedAllIntoOneTicket(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	for _, name := range []string{"side_conversation.json", "list_side_conversations.json", "create_side_conversation.json",
		"import_events.json", "show_side_conversation.json"} {
		require.NoError(t, srv.Seed(5, fixture(t, "responses", name)), name)
	}
	convs := srv.SideConversations(5)
	require.Len(t, convs, 1, "one conversation, several times")
	assert.Len(t, convs[0].Events, 1)
	assert.Empty(t, srv.SideConversations(1))

	// Seed registered ticket 5.
	list, _, err := srv.Client(noWait()).SideConversations.List(ctx(t), 5, &zendesk.ListOptions{IncludeEvents: true})
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Len(t, list[0].Events, 1)

	// Events of a conversation that exists.
	require.NoError(t, srv.Seed(5, []byte(`{"events":[{"id":"later-reply","side_conversation_id":"`+fixtureConvID+
		`","type":"reply","created_at":"2019-01-01T00:00:00Z","message":{"body":"Later"}}]}`)))
	events := srv.Events(5, fixtureConvID)
	require.Len(t, events, 2)
	assert.Equal(t, "later-reply", events[1].ID)
	assert.Equal(t, int64(5), events[1].TicketID)
	assert.Empty(t, srv.SentMessages())
}

func TestSeedErrors(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	srv.SeedConversation(1, zendesk.SideConversation{ID: "on-ticket-1"})
	cases := map[string]string{
		"malformed":           `{"side_conversation":`,
		"not an object":       `[{"id":"x"}]`,
		"unknown shape":       `{"tickets":[]}`,
		"wrong types":         `{"side_conversation":{"id":5}}`,
		"another ticket's":    `{"events":[{"id":"e","side_conversation_id":"on-ticket-1"}]}`,
		"events without conv": `{"side_conversations":[{"id":"a"},{"id":"b"}],"events":[{"id":"e"}]}`,
		"empty":               ``,
	}
	for name, doc := range cases {
		assert.Error(t, srv.Seed(3, []byte(doc)), name)
	}
	assert.Empty(t, srv.SideConversations(3), "a failed Seed changes nothing")
	assert.Equal(t, 404, get(t, srv, "/api/v2/tickets/3/side_conversations").Status, "nor registers the ticket")
}

func TestSeedConversation(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t, zendesktest.WithClock(fixedClock(t0)))
	created := time.Date(2024, 2, 2, 10, 0, 0, 0, time.UTC)
	srv.SeedConversation(9, zendesk.SideConversation{
		Subject:   "Seeded",
		CreatedAt: created,
		Events: []zendesk.Event{{
			ID: "ev-1", CreatedAt: created, Message: &zendesk.Message{Body: "first"},
		}},
	}, zendesk.Event{ID: "ev-2", CreatedAt: created.Add(time.Hour), SideConversationID: "ignored",
		Message: &zendesk.Message{Body: "second"}})

	convs := srv.SideConversations(9)
	require.Len(t, convs, 1)
	sc := convs[0]
	assert.Equal(t, "5c000000-0000-4000-8000-000000000001", sc.ID, "a generated id")
	assert.Equal(t, zendesk.StateOpen, sc.State, "open by default")
	sameTime(t, created, sc.UpdatedAt, "updated_at from created_at")
	sameTime(t, created.Add(time.Hour), sc.MessageAddedAt, "message_added_at from the latest message")
	require.Len(t, sc.Events, 2)
	assert.Equal(t, []zendesk.EventType{zendesk.EventCreate, zendesk.EventReply}, []zendesk.EventType{sc.Events[0].Type, sc.Events[1].Type})
	assert.Equal(t, sc.ID, sc.Events[1].SideConversationID)
	assert.Equal(t, "api", sc.Events[0].Via)

	// Created ids skip the seeded ones, and the seeded conversation works
	// like any other.
	c := srv.Client(noWait())
	next := mustCreate(t, c, 9, "created")
	assert.Equal(t, "5c000000-0000-4000-8000-000000000002", next.ID)
	_, _, err := c.SideConversations.Reply(ctx(t), 9, sc.ID, zendesk.ReplyRequest{Message: zendesk.Message{
		Body: "third", To: []zendesk.Participant{zendesk.Email("x@example.com")},
	}})
	require.NoError(t, err)
	require.Len(t, srv.Events(9, sc.ID), 3)
	assert.Equal(t, "Seeded", srv.Events(9, sc.ID)[2].Message.Subject)
	assert.Len(t, srv.SentMessages(), 2, "the create and the reply, not the seeded events")

	// Seeding the same id replaces the conversation and keeps its events.
	srv.SeedConversation(9, zendesk.SideConversation{ID: sc.ID, Subject: "Renamed", State: zendesk.StateClosed, CreatedAt: created})
	convs = srv.SideConversations(9)
	require.Len(t, convs, 2)
	assert.Equal(t, "Renamed", convs[0].Subject)
	assert.Equal(t, zendesk.StateClosed, convs[0].State)
	assert.Len(t, convs[0].Events, 3)
}

// TestSeededChildTicketsAreNotReused checks that a child ticket created
// after seeding gets an id no seeded conversation's child ticket holds.
func TestSeededChildTicketsAreNotReused(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	srv.SeedConversation(1, zendesk.SideConversation{
		Subject:      "Seeded child ticket",
		Participants: []zendesk.Participant{zendesk.SupportGroup(360)},
		ExternalIDs:  map[string]string{"targetTicketId": strconv.FormatInt(zendesktest.FirstChildTicketID, 10)},
	})
	require.NoError(t, srv.Seed(1, []byte(`{"side_conversation": {"subject": "Another", "external_ids": {"targetTicketId": "10005"}}}`)))
	// A lower one moves nothing back.
	require.NoError(t, srv.Seed(1, []byte(`{"side_conversation": {"subject": "Old", "external_ids": {"targetTicketId": "42"}}}`)))

	c := srv.Client(noWait())
	childOf := func() int64 {
		t.Helper()
		res, _, err := c.SideConversations.Create(ctx(t), 1, zendesk.CreateRequest{Message: zendesk.Message{
			Body: "Please help", To: []zendesk.Participant{zendesk.SupportGroup(360)},
		}})
		require.NoError(t, err)
		child, ok := res.SideConversation.ChildTicketID()
		require.True(t, ok)
		return child
	}
	assert.Equal(t, int64(10006), childOf(), "past the highest seeded child ticket")
	assert.Equal(t, int64(10007), childOf())
}
