package zendesk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pagedServer serves a ticket's conversations c-1..c-total in pages of
// perPage, with next_page links as Zendesk writes them, and counts requests.
type pagedServer struct {
	mu       sync.Mutex
	total    int
	perPage  int
	pages    []int
	nextLink func(page int) string // overrides the link to page
	failPage int
}

func (p *pagedServer) respond(req *http.Request) (*http.Response, error) {
	page, _ := strconv.Atoi(req.URL.Query().Get("page"))
	if page == 0 {
		page = 1
	}
	p.mu.Lock()
	p.pages = append(p.pages, page)
	p.mu.Unlock()
	if page == p.failPage {
		return reply(500, `{"error":"InternalError","description":"boom"}`)(req)
	}
	var items []string
	for i := (page-1)*p.perPage + 1; i <= min(page*p.perPage, p.total); i++ {
		items = append(items, fmt.Sprintf(`{"id":"c-%d","subject":"s%d","state":"open"}`, i, i))
	}
	next := "null"
	if page*p.perPage < p.total {
		link := fmt.Sprintf("%stickets/42/side_conversations?page=%d&per_page=%d", testRoot, page+1, p.perPage)
		if p.nextLink != nil {
			link = p.nextLink(page + 1)
		}
		next = strconv.Quote(link)
	}
	body := fmt.Sprintf(`{"side_conversations":[%s],"next_page":%s,"previous_page":null,"count":%d}`, strings.Join(items, ","), next, p.total)
	return reply(200, body)(req)
}

func (p *pagedServer) requested() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]int(nil), p.pages...)
}

func newPaged(t *testing.T, total, perPage int) (*Client, *pagedServer, *httpmock.MockTransport) {
	t.Helper()
	c, mt, _ := newMockClient(t)
	p := &pagedServer{total: total, perPage: perPage}
	mt.RegisterResponder(http.MethodGet, testRoot+"tickets/42/side_conversations", p.respond)
	return c, p, mt
}

func collect(t *testing.T, seq func(func(SideConversation, error) bool)) ([]string, []error) {
	t.Helper()
	var ids []string
	var errs []error
	for sc, err := range seq {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ids = append(ids, sc.ID)
	}
	return ids, errs
}

func ids(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf("c-%d", i))
	}
	return out
}

func TestListIterOnePage(t *testing.T) {
	t.Parallel()
	c, p, _ := newPaged(t, 3, 10)
	got, errs := collect(t, c.SideConversations.ListIter(context.Background(), 42, &ListOptions{PerPage: 10}))
	assert.Empty(t, errs)
	assert.Equal(t, ids(1, 3), got)
	assert.Equal(t, []int{1}, p.requested())
}

func TestListIterThreePages(t *testing.T) {
	t.Parallel()
	c, p, mt := newPaged(t, 7, 3)
	got, errs := collect(t, c.SideConversations.ListIter(context.Background(), 42, &ListOptions{PerPage: 3}))
	assert.Empty(t, errs)
	assert.Equal(t, ids(1, 7), got)
	assert.Equal(t, []int{1, 2, 3}, p.requested())
	assert.Equal(t, 3, mt.GetTotalCallCount())
}

func TestListIterEmptyFirstPage(t *testing.T) {
	t.Parallel()
	c, p, _ := newPaged(t, 0, 3)
	got, errs := collect(t, c.SideConversations.ListIter(context.Background(), 42, nil))
	assert.Empty(t, errs)
	assert.Empty(t, got)
	assert.Equal(t, []int{1}, p.requested())
}

func TestListIterIsLazyAndStopsOnBreak(t *testing.T) {
	t.Parallel()
	c, p, mt := newPaged(t, 9, 3)
	seq := c.SideConversations.ListIter(context.Background(), 42, &ListOptions{PerPage: 3})
	assert.Zero(t, mt.GetTotalCallCount(), "nothing is requested before the first iteration")
	var got []string
	for sc, err := range seq {
		require.NoError(t, err)
		got = append(got, sc.ID)
		if sc.ID == "c-4" {
			break
		}
	}
	assert.Equal(t, ids(1, 4), got)
	assert.Equal(t, []int{1, 2}, p.requested(), "no page after the break")
}

func TestListIterErrorOnPageTwo(t *testing.T) {
	t.Parallel()
	c, p, _ := newPaged(t, 9, 3)
	p.failPage = 2
	var got []string
	var errs []error
	iterations := 0
	for sc, err := range c.SideConversations.ListIter(context.Background(), 42, &ListOptions{PerPage: 3}) {
		iterations++
		if err != nil {
			errs = append(errs, err)
			continue // the iterator must end by itself
		}
		got = append(got, sc.ID)
	}
	assert.Equal(t, ids(1, 3), got)
	require.Len(t, errs, 1, "the error is yielded once")
	assert.ErrorIs(t, errs[0], ErrServer)
	assert.Equal(t, 4, iterations)
	assert.Equal(t, []int{1, 2, 2, 2, 2}, p.requested(), "a GET 500 is retried, then the iteration ends")
}

func TestListIterRefusesForeignNextPage(t *testing.T) {
	t.Parallel()
	for _, link := range []string{
		"https://evil.example.com/api/v2/tickets/42/side_conversations?page=2",
		"http://acme.zendesk.com/api/v2/tickets/42/side_conversations?page=2",
		"https://acme.zendesk.com.evil.example.com/api/v2/tickets/42/side_conversations?page=2",
		"https://user:pw@acme.zendesk.com/api/v2/tickets/42/side_conversations?page=2",
		"https://acme.zendesk.com/other/api/v2/tickets/42/side_conversations?page=2",
		"//evil.example.com/api/v2/x",
		"https://acme.zendesk.com/api/v2/../../admin/users?page=2",
		"https://acme.zendesk.com/api/v2/tickets/%2e%2e/%2E%2E/%2e%2e/users",
	} {
		c, p, mt := newPaged(t, 6, 3)
		p.nextLink = func(int) string { return link }
		var foreign []string
		mt.RegisterNoResponder(func(req *http.Request) (*http.Response, error) {
			foreign = append(foreign, req.URL.String())
			return reply(200, `{"side_conversations":[]}`)(req)
		})
		got, errs := collect(t, c.SideConversations.ListIter(context.Background(), 42, &ListOptions{PerPage: 3}))
		assert.Equal(t, ids(1, 3), got, link)
		require.Len(t, errs, 1, link)
		var fe *ForeignPageError
		require.ErrorAs(t, errs[0], &fe, link)
		assert.Contains(t, errs[0].Error(), "refusing to follow next_page")
		assert.NotContains(t, errs[0].Error(), "pw@", "credentials in a link are not echoed")
		assert.Empty(t, foreign, "nothing was requested from another host: %s", link)
		assert.Equal(t, []int{1}, p.requested())
	}
}

func TestListIterRelativeNextPage(t *testing.T) {
	t.Parallel()
	c, p, _ := newPaged(t, 5, 3)
	p.nextLink = func(page int) string {
		return fmt.Sprintf("/api/v2/tickets/42/side_conversations?page=%d&per_page=3", page)
	}
	got, errs := collect(t, c.SideConversations.ListIter(context.Background(), 42, nil))
	assert.Empty(t, errs)
	assert.Equal(t, ids(1, 5), got)
}

func TestListIterStopsOnRepeatedNextPage(t *testing.T) {
	t.Parallel()
	c, p, _ := newPaged(t, 9, 3)
	p.nextLink = func(int) string { return testRoot + "tickets/42/side_conversations?page=2&per_page=3" }
	got, errs := collect(t, c.SideConversations.ListIter(context.Background(), 42, &ListOptions{PerPage: 3}))
	assert.Equal(t, ids(1, 6), got)
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], ErrInvalidResponse)
	assert.Contains(t, errs[0].Error(), "already visited")
}

func TestListIterValidationYieldedWithoutRequest(t *testing.T) {
	t.Parallel()
	c, _, mt := newPaged(t, 3, 3)
	for _, opts := range []*ListOptions{{PerPage: 101}, {Page: -1}} {
		got, errs := collect(t, c.SideConversations.ListIter(context.Background(), 42, opts))
		assert.Empty(t, got)
		require.Len(t, errs, 1)
		assert.ErrorIs(t, errs[0], ErrInvalidRequest)
	}
	_, errs := collect(t, c.SideConversations.ListIter(context.Background(), 0, nil))
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], ErrInvalidRequest)
	noCalls(t, mt)
}

// A page that starts at or past the 10,000th record is refused before
// anything is sent, a PerPage of 0 counting as Zendesk's default of 100.
func TestListOptionsOffsetLimit(t *testing.T) {
	t.Parallel()
	refused := []struct {
		opts   ListOptions
		reason string
	}{
		{ListOptions{Page: 101}, "page 101 of 100 (Zendesk's default page size) starts past record 10000"},
		{ListOptions{Page: 10001}, "page 10001 of 100 (Zendesk's default page size)"},
		{ListOptions{Page: 1 << 62}, "of 100 (Zendesk's default page size)"},
		{ListOptions{Page: 101, PerPage: 100}, "page 101 of 100 starts past record 10000"},
		{ListOptions{Page: 201, PerPage: 50, IncludeEvents: true}, "page 201 of 50 starts"},
		{ListOptions{Page: 1 << 62, PerPage: 1}, "starts past record 10000"},
	}
	c, mt, _ := newMockClient(t)
	for _, tc := range refused {
		var ve *ValidationError
		require.ErrorAs(t, tc.opts.Validate(), &ve, "%+v", tc.opts)
		assert.Equal(t, "page", ve.Field)
		assert.Contains(t, ve.Reason, tc.reason)

		_, _, err := c.SideConversations.List(context.Background(), 42, &tc.opts)
		require.ErrorAs(t, err, &ve, "List %+v", tc.opts)
		_, _, err = c.SideConversations.ListEvents(context.Background(), 42, convID, &tc.opts)
		require.ErrorAs(t, err, &ve, "ListEvents %+v", tc.opts)
		for _, err := range c.SideConversations.ListIter(context.Background(), 42, &tc.opts) {
			require.ErrorAs(t, err, &ve, "ListIter %+v", tc.opts)
		}
		for _, err := range c.SideConversations.ListEventsIter(context.Background(), 42, convID, &tc.opts) {
			require.ErrorAs(t, err, &ve, "ListEventsIter %+v", tc.opts)
		}
	}
	noCalls(t, mt)

	for _, ok := range []ListOptions{{}, {Page: 1}, {Page: 100}, {Page: 100, PerPage: 100}, {Page: 200, PerPage: 50},
		{Page: 10000, PerPage: 1}, {PerPage: 100}} {
		assert.NoError(t, ok.Validate(), "%+v", ok)
	}
}

// Zendesk answers 400 to a next_page past the 10,000th record; the error
// explains why.
func TestOffsetLimitErrorExplains(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	list := testRoot + "tickets/42/side_conversations"
	deep := list + "?page=101&per_page=100"
	register(mt, http.MethodGet, list+"?page=100&per_page=100",
		reply(200, `{"side_conversations":[{"id":"last"}],"next_page":"`+deep+`"}`))
	rec := register(mt, http.MethodGet, deep,
		reply(400, `{"error":"InvalidPaginationParameter","description":"Invalid page"}`))
	got, errs := collect(t, c.SideConversations.ListIter(context.Background(), 42, &ListOptions{Page: 100, PerPage: 100}))
	assert.Equal(t, []string{"last"}, got)
	require.Len(t, errs, 1)
	err := errs[0]
	var ole *OffsetLimitError
	require.ErrorAs(t, err, &ole)
	assert.Equal(t, 101, ole.Page)
	assert.Equal(t, 100, ole.PerPage)
	assert.ErrorIs(t, err, ErrBadRequest)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "InvalidPaginationParameter", apiErr.Code)
	assert.Contains(t, err.Error(), "10,000 records")
	assert.Len(t, rec.calls(), 1)

	// A link without per_page counts Zendesk's default page size, and a
	// page so far out that its offset overflows is still recognised.
	for _, tc := range []struct {
		query string
		page  int
	}{{"page=101", 101}, {"page=4611686018427387904", 1 << 62}} {
		c, mt, _ := newMockClient(t)
		register(mt, http.MethodGet, list,
			reply(200, `{"side_conversations":[],"next_page":"`+list+"?"+tc.query+`"}`))
		register(mt, http.MethodGet, list+"?"+tc.query, reply(400, `{"error":"InvalidPaginationParameter"}`))
		_, errs := collect(t, c.SideConversations.ListIter(context.Background(), 42, nil))
		require.Len(t, errs, 1)
		require.ErrorAs(t, errs[0], &ole, tc.query)
		assert.Equal(t, tc.page, ole.Page)
		assert.Equal(t, 100, ole.PerPage)
		assert.NotContains(t, errs[0].Error(), "record -")
	}

	// A 400 on an early page is not dressed up.
	register(mt, http.MethodGet, list+"?page=2", reply(400, `{"error":"InvalidPaginationParameter"}`))
	_, _, err = c.SideConversations.List(context.Background(), 42, &ListOptions{Page: 2})
	var apiErr2 *APIError
	require.ErrorAs(t, err, &apiErr2)
	assert.False(t, errors.As(err, &ole))
}

func TestListIterCarriesUnmatchedEventsForward(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations",
		reply(200, `{"side_conversations":[{"id":"a"}],"events":[
			{"id":"ea","side_conversation_id":"a","type":"create","created_at":"2024-01-01T00:00:00Z"},
			{"id":"eb1","side_conversation_id":"b","type":"reply","created_at":"2024-01-01T00:00:05Z"}],
			"next_page":"`+testRoot+`tickets/42/side_conversations?include=events&page=2"}`))
	register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations?include=events&page=2",
		reply(200, `{"side_conversations":[{"id":"b"}],"events":[
			{"id":"eb0","side_conversation_id":"b","type":"create","created_at":"2024-01-01T00:00:01Z"}],"next_page":null}`))
	got := map[string][]string{}
	for sc, err := range c.SideConversations.ListIter(context.Background(), 42, &ListOptions{IncludeEvents: true}) {
		require.NoError(t, err)
		got[sc.ID] = eventIDs(sc.Events)
	}
	assert.Equal(t, map[string][]string{"a": {"ea"}, "b": {"eb0", "eb1"}}, got)
}

func TestListEventsIterPages(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	base := testRoot + "tickets/42/side_conversations/" + convID + "/events"
	register(mt, http.MethodGet, base+"?per_page=2",
		reply(200, `{"events":[{"id":"e1","type":"create"},{"id":"e2","type":"reply"}],"next_page":"`+base+`?page=2&per_page=2","count":3}`))
	register(mt, http.MethodGet, base+"?page=2&per_page=2",
		reply(200, `{"events":[{"id":"e3","type":"update","updates":{"state":"closed"}}],"next_page":null,"count":3}`))
	var got []Event
	for ev, err := range c.SideConversations.ListEventsIter(context.Background(), 42, convID, &ListOptions{PerPage: 2}) {
		require.NoError(t, err)
		got = append(got, ev)
	}
	assert.Equal(t, []string{"e1", "e2", "e3"}, eventIDs(got))
	assert.Equal(t, StateClosed, got[2].Updates.State)
	assert.Equal(t, 2, mt.GetTotalCallCount())

	for _, err := range c.SideConversations.ListEventsIter(context.Background(), 42, "..", nil) {
		assert.ErrorIs(t, err, ErrInvalidRequest)
	}
	assert.Equal(t, 2, mt.GetTotalCallCount())
}

// sideloadPages serves pages 1..pages of a ticket's side conversations with
// sideloaded events from memory: page n lists the conversations convs(n)
// and sideloads events(n), each event given as "id@conversation".
type sideloadPages struct {
	pages  int
	convs  func(n int) []string
	events func(n int) []string
}

func (p *sideloadPages) RoundTrip(req *http.Request) (*http.Response, error) {
	n, _ := strconv.Atoi(req.URL.Query().Get("page"))
	n = max(n, 1)
	var b strings.Builder
	b.WriteString(`{"side_conversations":[`)
	for i, id := range p.convs(n) {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"id":"` + id + `","state":"open"}`)
	}
	b.WriteString(`],"events":[`)
	for i, spec := range p.events(n) {
		id, conv, _ := strings.Cut(spec, "@")
		if i > 0 {
			b.WriteByte(',')
		}
		// Later pages bring later events.
		created := time.Unix(1_700_000_000+int64(n), 0).UTC().Format(time.RFC3339)
		b.WriteString(`{"id":"` + id + `","side_conversation_id":"` + conv + `","type":"reply","created_at":"` + created + `"}`)
	}
	b.WriteString(`],"next_page":`)
	if n < p.pages {
		b.WriteString(`"` + testRoot + `tickets/42/side_conversations?include=events&page=` + strconv.Itoa(n+1) + `"`)
	} else {
		b.WriteString("null")
	}
	b.WriteString("}")
	body := b.String()
	return &http.Response{
		StatusCode:    http.StatusOK,
		Header:        http.Header{"Content-Type": {"application/json; charset=utf-8"}},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}, nil
}

func newSideloadClient(tb testing.TB, p *sideloadPages) *Client {
	tb.Helper()
	c, err := NewClient("acme", APIToken(testEmail, testToken), WithHTTPClient(&http.Client{Transport: p}))
	require.NoError(tb, err)
	return c
}

// orphans returns count events of page n for conversations that never
// appear.
func orphans(n, count int) []string {
	out := make([]string, count)
	for j := range out {
		out[j] = fmt.Sprintf("o-%d-%d@ghost-%d-%d", n, j, n, j)
	}
	return out
}

// ListIter keeps at most MaxCarriedEvents events for later pages; past
// that, the ones kept longest are dropped, and their conversation arrives
// with the events still kept and its own.
func TestListIterDropsOldestCarriedEvents(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		orphanPages int
		want        []string
	}{
		// 1 + 9,900 + 1 events kept at most: within the bound.
		{MaxCarriedEvents/100 - 1, []string{"late-1", "late-2", "late-3"}},
		// 1 + 10,000 at once: the oldest, late-1, is dropped.
		{MaxCarriedEvents / 100, []string{"late-2", "late-3"}},
	} {
		t.Run(strconv.Itoa(tc.orphanPages), func(t *testing.T) {
			t.Parallel()
			last := tc.orphanPages + 3
			p := &sideloadPages{
				pages: last,
				convs: func(n int) []string {
					switch n {
					case 1:
						return []string{"a"}
					case last:
						return []string{"late"}
					}
					return []string{"p-" + strconv.Itoa(n)}
				},
				events: func(n int) []string {
					switch n {
					case 1:
						return []string{"a-1@a", "late-1@late"}
					case last - 1:
						return []string{"late-2@late"}
					case last:
						return []string{"late-3@late"}
					}
					return orphans(n, 100)
				},
			}
			got := map[string][]string{}
			for sc, err := range newSideloadClient(t, p).SideConversations.ListIter(context.Background(), 42, &ListOptions{IncludeEvents: true}) {
				require.NoError(t, err)
				got[sc.ID] = eventIDs(sc.Events)
			}
			assert.Len(t, got, last)
			assert.Equal(t, []string{"a-1"}, got["a"])
			assert.Equal(t, tc.want, got["late"])
		})
	}
}

// The events kept for later pages stay within their bound over thousands
// of pages, and the work done on them grows with the events
// that came, not with the events kept times the pages walked.
func TestListIterCarryIsBoundedAndLinear(t *testing.T) {
	t.Parallel()
	// A smaller bound than MaxCarriedEvents keeps the walk short; the
	// bound is passed through, not built in.
	const pages, orphansPerPage, forNext, limit = 2000, 4, 2, 1000
	p := &sideloadPages{
		pages: pages,
		convs: func(n int) []string { return []string{"p-" + strconv.Itoa(n)} },
		events: func(n int) []string {
			evs := orphans(n, orphansPerPage)
			for j := range forNext {
				evs = append(evs, fmt.Sprintf("n-%d-%d@p-%d", n, j, n+1))
			}
			return evs
		},
	}
	c := newSideloadClient(t, p)
	var carry *eventCarry
	walked := 0
	for sc, err := range c.SideConversations.listIter(context.Background(), 42, &ListOptions{IncludeEvents: true}, limit, &carry) {
		require.NoError(t, err)
		walked++
		if walked > 1 {
			require.Len(t, sc.Events, forNext, "%s gets the events the page before carried for it", sc.ID)
		}
		require.LessOrEqual(t, carry.kept, limit, "page %d", walked)
		require.LessOrEqual(t, len(carry.queue), 4*limit+192, "page %d", walked)
	}
	require.Equal(t, pages, walked)

	added := pages * (orphansPerPage + forNext)
	attached := (pages - 1) * forNext
	assert.Equal(t, limit, carry.peak)
	assert.Equal(t, added, carry.kept+carry.dropped+attached, "every event is kept, dropped or attached")
	assert.LessOrEqual(t, carry.steps, 4*added, "linear in the events that came")
}
