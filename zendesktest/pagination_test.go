package zendesktest_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	zendesk "github.com/sideconv/zendesk"
	"github.com/sideconv/zendesk/zendesktest"
)

// seedFive stores five conversations on ticket 1, each with one event, and
// returns their ids in list order. Two share a created_at, so the id breaks
// the tie.
func seedFive(srv *zendesktest.Server) []string {
	ids := []string{"conv-c", "conv-a", "conv-b", "conv-e", "conv-d"}
	created := []time.Time{t0.Add(3 * time.Hour), t0, t0, t0.Add(5 * time.Hour), t0.Add(4 * time.Hour)}
	for i, id := range ids {
		srv.SeedConversation(1, zendesk.SideConversation{ID: id, Subject: "Seeded " + id, CreatedAt: created[i]},
			zendesk.Event{ID: "ev-" + id, Type: zendesk.EventCreate, CreatedAt: created[i],
				Message: &zendesk.Message{Body: "first message of " + id}})
	}
	return []string{"conv-a", "conv-b", "conv-c", "conv-d", "conv-e"}
}

func TestPagination(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	want := seedFive(srv)
	c := srv.Client(noWait())
	base := srv.URL() + "/api/v2/tickets/1/side_conversations"

	var got []string
	pages := []struct{ next, previous string }{
		{base + "?page=2&per_page=2", ""},
		{base + "?page=3&per_page=2", base + "?page=1&per_page=2"},
		{"", base + "?page=2&per_page=2"},
	}
	for i, p := range pages {
		list, resp, err := c.SideConversations.List(ctx(t), 1, &zendesk.ListOptions{Page: i + 1, PerPage: 2})
		require.NoError(t, err)
		assert.Equal(t, 5, resp.Count, "count is the total")
		assert.Equal(t, p.next, resp.NextPage, "page %d", i+1)
		assert.Equal(t, p.previous, resp.PreviousPage, "page %d", i+1)
		for _, sc := range list {
			got = append(got, sc.ID)
		}
	}
	assert.Equal(t, want, got, "created_at ascending, then id")

	// The iterator follows next_page to the end.
	got = nil
	for sc, err := range c.SideConversations.ListIter(ctx(t), 1, &zendesk.ListOptions{PerPage: 2, IncludeEvents: true}) {
		require.NoError(t, err)
		got = append(got, sc.ID)
		require.Len(t, sc.Events, 1, sc.ID)
		assert.Equal(t, "ev-"+sc.ID, sc.Events[0].ID)
	}
	assert.Equal(t, want, got)

	// include=events: the links keep it, and the flat events array holds
	// the events of the page's conversations only.
	m := get(t, srv, "/api/v2/tickets/1/side_conversations?page=2&per_page=2&include=events").JSON(t)
	assert.Equal(t, base+"?include=events&page=3&per_page=2", m["next_page"])
	assert.Equal(t, base+"?include=events&page=1&per_page=2", m["previous_page"])
	var evIDs []string
	for _, e := range m["events"].([]any) {
		evIDs = append(evIDs, e.(map[string]any)["id"].(string))
	}
	assert.Equal(t, []string{"ev-conv-c", "ev-conv-d"}, evIDs)

	// A page past the end is empty; defaults and clamping.
	m = get(t, srv, "/api/v2/tickets/1/side_conversations?page=9&per_page=2").JSON(t)
	assert.Equal(t, []any{}, m["side_conversations"])
	assert.Nil(t, m["next_page"])
	assert.Equal(t, float64(5), m["count"])
	m = get(t, srv, "/api/v2/tickets/1/side_conversations?page=2&per_page=500").JSON(t)
	assert.Equal(t, base+"?page=1&per_page=100", m["previous_page"], "per_page is clamped to 100")
	m = get(t, srv, "/api/v2/tickets/1/side_conversations?page=abc&per_page=-3").JSON(t)
	assert.Len(t, m["side_conversations"], 5, "bad values take the defaults")
	assert.Nil(t, m["previous_page"])
}

func TestOffsetLimit(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	seedFive(srv)
	list := "/api/v2/tickets/1/side_conversations"
	events := list + "/conv-a/events"
	for _, q := range []string{"?page=101", "?page=101&per_page=100", "?page=201&per_page=50", "?page=10001&per_page=1",
		"?page=99999999999999999999"} {
		for _, path := range []string{list, events} {
			a := get(t, srv, path+q)
			m := assertZendeskError(t, a, http.StatusBadRequest, "InvalidPaginationParameter")
			assert.Contains(t, m["description"], "10,000 records", path+q)
		}
	}
	for _, q := range []string{"?page=100", "?page=100&per_page=100", "?page=200&per_page=50", "?page=10000&per_page=1"} {
		a := get(t, srv, list+q)
		assert.Equal(t, http.StatusOK, a.Status, q)
	}

	// The client refuses such pages itself; the fake refuses a client that
	// would not.
	_, _, err := srv.Client(noWait()).SideConversations.List(ctx(t), 1, &zendesk.ListOptions{Page: 101, PerPage: 100})
	require.ErrorIs(t, err, zendesk.ErrInvalidRequest)
	assert.Len(t, srv.Requests(), 5*2+4, "the client sent nothing")
}
