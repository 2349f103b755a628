package zendesktest_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	zendesk "github.com/sideconv/zendesk"
	"github.com/sideconv/zendesk/zendesktest"
)

func TestServerURLAndClient(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	assert.True(t, strings.HasPrefix(srv.URL(), "http://127.0.0.1:"), srv.URL())
	assert.False(t, strings.HasSuffix(srv.URL(), "/"))

	c := srv.Client()
	require.NotNil(t, c)
	assert.Equal(t, srv.URL()+"/api/v2/", c.BaseURL().String())

	// The caller's options come last.
	other := srv.Client(zendesk.WithBaseURL("http://127.0.0.1:1/"))
	assert.Equal(t, "http://127.0.0.1:1/api/v2/", other.BaseURL().String())

	// A bad option: nil from a server made by NewServer.
	plain := zendesktest.NewServer()
	defer plain.Close()
	assert.Nil(t, plain.Client(zendesk.WithUserAgent("bad\nagent")))
}

// fakeTB records what Start and Client report instead of failing the test.
type fakeTB struct {
	testing.TB
	mu       sync.Mutex
	fatals   []string
	cleanups []func()
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fatals = append(f.fatals, fmt.Sprintf(format, args...))
}

func (f *fakeTB) Cleanup(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleanups = append(f.cleanups, fn)
}

func TestStartReportsAndCleansUp(t *testing.T) {
	t.Parallel()
	tb := &fakeTB{TB: t}
	srv := zendesktest.Start(tb)
	assert.Nil(t, srv.Client(zendesk.WithUserAgent("bad\nagent")))
	require.Len(t, tb.fatals, 1)
	assert.Contains(t, tb.fatals[0], "zendesktest: creating a client")

	require.Equal(t, http.StatusOK, get(t, srv, "/api/v2/tickets/1/side_conversations").Status)
	require.Len(t, tb.cleanups, 1)
	tb.cleanups[0]()
	_, err := http.Get(srv.URL() + "/api/v2/tickets/1/side_conversations")
	assert.Error(t, err, "closed by the cleanup")
}

func TestRequestsRecorded(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	c := srv.Client(noWait(), zendesk.WithUserAgent("recorder-test"))
	sc := mustCreate(t, c, 1, "recorded")
	_, _, err := c.SideConversations.List(ctx(t), 1, &zendesk.ListOptions{PerPage: 5, IncludeEvents: true})
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, call(t, srv, http.MethodGet, "/api/v2/tickets/1/side_conversations/"+sc.ID,
		nil, http.Header{"Authorization": {""}}).Status)

	reqs := srv.Requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, http.MethodPost, reqs[0].Method)
	assert.Equal(t, "/api/v2/tickets/1/side_conversations", reqs[0].Path)
	assert.JSONEq(t, `{"message":{"subject":"recorded","body":"Body of recorded","to":[{"email":"someone@example.com"}]}}`, string(reqs[0].Body))
	assert.Equal(t, "application/json", reqs[0].Header.Get("Content-Type"))
	assert.Contains(t, reqs[0].Header.Get("User-Agent"), "recorder-test")
	assert.Empty(t, reqs[0].Header.Get("Authorization"))
	assert.True(t, reqs[0].Authorized)

	assert.Equal(t, "5", reqs[1].Query.Get("per_page"))
	assert.Equal(t, "events", reqs[1].Query.Get("include"))
	assert.False(t, reqs[2].Authorized)

	// Copies: changing them changes nothing.
	reqs[0].Body[0] = 'X'
	reqs[0].Query.Set("x", "y")
	assert.Equal(t, byte('{'), srv.Requests()[0].Body[0])

	srv.ResetRequests()
	assert.Empty(t, srv.Requests())
	get(t, srv, "/api/v2/tickets/1/side_conversations")
	assert.Len(t, srv.Requests(), 1)
}

func TestRequestIDsAreUnique(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	seen := map[string]bool{}
	for _, path := range []string{"/api/v2/tickets/1/side_conversations", "/nope", "/api/v2/tickets/1/side_conversations/x"} {
		for range 3 {
			id := get(t, srv, path).Header.Get("X-Zendesk-Request-Id")
			require.NotEmpty(t, id)
			assert.False(t, seen[id], id)
			seen[id] = true
		}
	}
}

func TestTickets(t *testing.T) {
	t.Parallel()
	def := zendesktest.Start(t)
	assert.Equal(t, http.StatusOK, get(t, def, "/api/v2/tickets/1/side_conversations").Status, "ticket 1 by default")
	assert.Equal(t, http.StatusNotFound, get(t, def, "/api/v2/tickets/2/side_conversations").Status)

	srv := zendesktest.Start(t, zendesktest.WithTickets(5), zendesktest.WithTickets(6))
	assert.Equal(t, http.StatusNotFound, get(t, srv, "/api/v2/tickets/1/side_conversations").Status, "WithTickets replaces the default")
	assert.Equal(t, http.StatusOK, get(t, srv, "/api/v2/tickets/5/side_conversations").Status)
	assert.Equal(t, http.StatusOK, get(t, srv, "/api/v2/tickets/6/side_conversations").Status)
	srv.AddTicket(7, 8)
	assert.Equal(t, http.StatusOK, get(t, srv, "/api/v2/tickets/8/side_conversations").Status)
	assert.Nil(t, srv.SideConversations(99))
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	c := srv.Client(noWait())
	const n = 32
	var wg sync.WaitGroup
	ids := make(chan string, n)
	errs := make(chan error, 3*n)
	for i := range n {
		wg.Go(func() {
			res, _, err := c.SideConversations.Create(ctx(t), 1, emailCreate(fmt.Sprint("conversation ", i), "b", "x@example.com"))
			if err != nil {
				errs <- err
				return
			}
			ids <- res.SideConversation.ID
			_, _, err = c.SideConversations.Reply(ctx(t), 1, res.SideConversation.ID, zendesk.ReplyRequest{Message: zendesk.Message{
				Body: "reply", To: []zendesk.Participant{zendesk.Email("x@example.com")},
			}})
			if err != nil {
				errs <- err
			}
			if _, _, err := c.SideConversations.List(ctx(t), 1, nil); err != nil {
				errs <- err
			}
			// The state accessors are safe alongside requests.
			_ = srv.SideConversations(1)
			_ = srv.Requests()
			srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultStatus, Path: "/never/matches"})
		})
	}
	wg.Wait()
	close(ids)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	unique := map[string]bool{}
	for id := range ids {
		unique[id] = true
	}
	assert.Len(t, unique, n)
	convs := srv.SideConversations(1)
	require.Len(t, convs, n)
	for _, sc := range convs {
		assert.Len(t, sc.Events, 2, sc.ID)
	}
	assert.Len(t, srv.SentMessages(), 2*n)
	assert.Len(t, srv.Requests(), 3*n)
}
