package zendesk

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The benchmarks compare each SDK call with a hand-written baseline doing
// the same request with net/http and encoding/json into the same structs,
// against the same loopback server, in the same run:
//
//	go test -run '^$' -bench . -benchmem -count 10 | tee bench.txt
//	benchstat bench.txt
//
// See docs/PERFORMANCE.md for the figures.

// benchServer answers like Zendesk with fixed bodies.
type benchServer struct {
	srv        *httptest.Server
	show       []byte
	created    []byte
	listPage   []byte
	authHeader string
}

func newBenchServer(b *testing.B) *benchServer {
	b.Helper()
	bs := &benchServer{
		show:       fixture(b, "responses/show_side_conversation.json"),
		created:    fixture(b, "responses/create_side_conversation.json"),
		listPage:   bigListPage(100, 3),
		authHeader: testBasic,
	}
	bs.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != bs.authHeader {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("X-Zendesk-Request-Id", "bench")
		w.Header().Set("X-Rate-Limit", "700")
		w.Header().Set("X-Rate-Limit-Remaining", "699")
		switch {
		case r.Method == http.MethodPost:
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write(bs.created)
		case strings.HasSuffix(r.URL.Path, "/side_conversations"):
			_, _ = w.Write(bs.listPage)
		default:
			_, _ = w.Write(bs.show)
		}
	}))
	b.Cleanup(bs.srv.Close)
	return bs
}

// bigListPage is a list answer of n conversations with perConv sideloaded
// events each, shaped like Zendesk's.
func bigListPage(n, perConv int) []byte {
	var convs, events []string
	for i := range n {
		id := fmt.Sprintf("8566255a-ece5-11e8-857d-%012d", i)
		convs = append(convs, fmt.Sprintf(`{"created_at":"2018-11-20T16:58:36.453+00:00","external_ids":{"my_system_id":"abc-%d"},"id":%q,"message_added_at":"2018-11-20T16:58:36.453+00:00","participants":[{"email":"johnny@example.com","name":"Johnny Agent","user_id":35436},{"email":"bob@example.com","name":null,"user_id":null}],"preview_text":"I was trying to print an email when the printer suddenly started burning","state":"open","state_updated_at":"2018-11-20T16:58:36.453+00:00","subject":"Help, my printer is on fire!","updated_at":"2018-11-20T16:58:36.453+00:00","url":"https://company.zendesk.com/api/v2/tickets/1/side_conversations/%s"}`, i, id, id))
		for j := range perConv {
			events = append(events, fmt.Sprintf(`{"id":"ev-%d-%d","side_conversation_id":%q,"ticket_id":1,"type":"reply","via":"email","created_at":"2018-11-20T17:%02d:00.000Z","actor":{"email":"someone@example.com","name":null,"user_id":null},"message":{"subject":"Re: Help","body":"Have you tried turning it off and on again?","html_body":"<div class=\"zd-comment\"><p>Have you tried turning it off and on again?</p></div>","preview_text":"Have you tried turning it off and on again?","from":{"email":"someone@example.com","name":null,"user_id":null},"to":[{"email":"johnny@example.com","name":"Johnny Agent","user_id":35436}],"attachments":[]},"updates":{}}`, i, j, id, j))
		}
	}
	return fmt.Appendf(nil, `{"side_conversations":[%s],"events":[%s],"next_page":null,"previous_page":null,"count":%d}`,
		strings.Join(convs, ","), strings.Join(events, ","), n)
}

func benchClient(b *testing.B, bs *benchServer) *Client {
	b.Helper()
	c, err := NewClient("", APIToken(testEmail, testToken), WithBaseURL(bs.srv.URL), WithHTTPClient(bs.srv.Client()))
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// baseline is what a careful hand-written call looks like.
func baseline(ctx context.Context, hc *http.Client, method, url string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		buf, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", testBasic)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// benchCreate is the Create request of the benchmarks.
var benchCreate = CreateRequest{Message: Message{
	Subject: "My printer is on fire!", Body: "The smoke is very colorful.",
	To: []Participant{Email("someone@example.com")}, ExternalIDs: map[string]string{"message-external": "xyz"},
}, ExternalIDs: map[string]string{"conversation-external": "zyx"}}

// The baseline's own types: what a hand-written client declares for these
// answers and requests, decoded and encoded by encoding/json alone.
type (
	plainParticipant struct {
		UserID           int64  `json:"user_id,omitempty"`
		Name             string `json:"name,omitempty"`
		Email            string `json:"email,omitempty"`
		SlackWorkspaceID string `json:"slack_workspace_id,omitempty"`
		SlackChannelID   string `json:"slack_channel_id,omitempty"`
		SupportGroupID   int64  `json:"support_group_id,omitempty"`
		SupportAgentID   int64  `json:"support_agent_id,omitempty"`
		MSTeamsChannelID string `json:"msteams_channel_id,omitempty"`
	}
	plainAttachment struct {
		ID          string `json:"id"`
		FileName    string `json:"file_name"`
		ContentType string `json:"content_type"`
		ContentURL  string `json:"content_url"`
		Size        int64  `json:"size"`
		Width       int    `json:"width"`
		Height      int    `json:"height"`
		Inline      bool   `json:"inline"`
	}
	plainMessage struct {
		Subject     string             `json:"subject,omitempty"`
		Body        string             `json:"body,omitempty"`
		HTMLBody    string             `json:"html_body,omitempty"`
		PreviewText string             `json:"preview_text,omitempty"`
		From        *plainParticipant  `json:"from,omitempty"`
		To          []plainParticipant `json:"to,omitempty"`
		ExternalIDs map[string]string  `json:"external_ids,omitempty"`
		Attachments []plainAttachment  `json:"attachments,omitempty"`
	}
	plainEvent struct {
		ID                 string           `json:"id"`
		SideConversationID string           `json:"side_conversation_id"`
		TicketID           int64            `json:"ticket_id"`
		Type               string           `json:"type"`
		Via                string           `json:"via"`
		URL                string           `json:"url"`
		Actor              plainParticipant `json:"actor"`
		CreatedAt          time.Time        `json:"created_at"`
		Message            *plainMessage    `json:"message"`
		Updates            struct {
			State   string `json:"state"`
			Subject string `json:"subject"`
		} `json:"updates"`
	}
	plainConversation struct {
		ID             string             `json:"id"`
		TicketID       int64              `json:"ticket_id"`
		Subject        string             `json:"subject"`
		PreviewText    string             `json:"preview_text"`
		URL            string             `json:"url"`
		State          string             `json:"state"`
		Participants   []plainParticipant `json:"participants"`
		ExternalIDs    map[string]string  `json:"external_ids"`
		CreatedAt      time.Time          `json:"created_at"`
		UpdatedAt      time.Time          `json:"updated_at"`
		MessageAddedAt time.Time          `json:"message_added_at"`
		StateUpdatedAt time.Time          `json:"state_updated_at"`
		Events         []plainEvent       `json:"-"`
	}
	plainResult struct {
		Event            plainEvent        `json:"event"`
		SideConversation plainConversation `json:"side_conversation"`
	}
	plainCreate struct {
		Message     plainMessage      `json:"message"`
		ExternalIDs map[string]string `json:"external_ids,omitempty"`
	}
)

// plainBenchCreate is benchCreate as the baseline sends it.
var plainBenchCreate = plainCreate{Message: plainMessage{
	Subject: benchCreate.Message.Subject, Body: benchCreate.Message.Body,
	To: []plainParticipant{{Email: "someone@example.com"}}, ExternalIDs: benchCreate.Message.ExternalIDs,
}, ExternalIDs: benchCreate.ExternalIDs}

// benchCalls are the calls the benchmarks time, each as the SDK makes it
// and as the hand-written baseline makes it, against the server at root
// (without /api/v2).
type benchCalls struct {
	c    *Client
	hc   *http.Client
	root string
}

func (bc benchCalls) sdkShow(ctx context.Context) error {
	sc, _, err := bc.c.SideConversations.Show(ctx, 1, convID, nil)
	if err == nil && sc.ID != convID {
		err = fmt.Errorf("got %q", sc.ID)
	}
	return err
}

func (bc benchCalls) baseShow(ctx context.Context) error {
	var root struct {
		SideConversation plainConversation `json:"side_conversation"`
	}
	err := baseline(ctx, bc.hc, http.MethodGet, bc.root+"/api/v2/tickets/1/side_conversations/"+convID, nil, &root)
	if err == nil && root.SideConversation.ID != convID {
		err = fmt.Errorf("got %q", root.SideConversation.ID)
	}
	return err
}

func (bc benchCalls) sdkCreate(ctx context.Context) error {
	res, _, err := bc.c.SideConversations.Create(ctx, 1, benchCreate)
	if err == nil && res.SideConversation.ID != convID {
		err = fmt.Errorf("got %q", res.SideConversation.ID)
	}
	return err
}

func (bc benchCalls) baseCreate(ctx context.Context) error {
	var res plainResult
	err := baseline(ctx, bc.hc, http.MethodPost, bc.root+"/api/v2/tickets/1/side_conversations", plainBenchCreate, &res)
	if err == nil && res.SideConversation.ID != convID {
		err = fmt.Errorf("got %q", res.SideConversation.ID)
	}
	return err
}

func (bc benchCalls) sdkList(ctx context.Context) error {
	convs, _, err := bc.c.SideConversations.List(ctx, 1, &ListOptions{PerPage: 100, IncludeEvents: true})
	if err == nil && (len(convs) != 100 || len(convs[99].Events) != 3) {
		err = fmt.Errorf("wrong page: %d conversations", len(convs))
	}
	return err
}

// baseList decodes the page and groups the sideloaded events by hand.
func (bc benchCalls) baseList(ctx context.Context) error {
	var root struct {
		SideConversations []plainConversation `json:"side_conversations"`
		Events            []plainEvent        `json:"events"`
		NextPage          *string             `json:"next_page"`
	}
	if err := baseline(ctx, bc.hc, http.MethodGet, bc.root+"/api/v2/tickets/1/side_conversations?include=events&per_page=100", nil, &root); err != nil {
		return err
	}
	byID := make(map[string]int, len(root.SideConversations))
	for i, sc := range root.SideConversations {
		byID[sc.ID] = i
	}
	for _, ev := range root.Events {
		if i, ok := byID[ev.SideConversationID]; ok {
			root.SideConversations[i].Events = append(root.SideConversations[i].Events, ev)
		}
	}
	if len(root.SideConversations) != 100 || len(root.SideConversations[99].Events) != 3 {
		return fmt.Errorf("wrong page: %d conversations", len(root.SideConversations))
	}
	return nil
}

func newBenchCalls(b *testing.B, bs *benchServer) benchCalls {
	return benchCalls{c: benchClient(b, bs), hc: bs.srv.Client(), root: bs.srv.URL}
}

// sdkAndBaseline runs one call as two sub-benchmarks, "sdk" and "baseline".
func sdkAndBaseline(b *testing.B, bytes int64, sdk, base func(context.Context) error) {
	ctx := context.Background()
	for _, side := range []struct {
		name string
		call func(context.Context) error
	}{{"sdk", sdk}, {"baseline", base}} {
		b.Run(side.name, func(b *testing.B) {
			if bytes > 0 {
				b.SetBytes(bytes)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := side.call(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkShow(b *testing.B) {
	bc := newBenchCalls(b, newBenchServer(b))
	sdkAndBaseline(b, 0, bc.sdkShow, bc.baseShow)
}

func BenchmarkCreate(b *testing.B) {
	bc := newBenchCalls(b, newBenchServer(b))
	sdkAndBaseline(b, 0, bc.sdkCreate, bc.baseCreate)
}

// BenchmarkListPage100 lists one page of 100 conversations with three
// sideloaded events each (about 260 KB of JSON). The baseline decodes and
// groups the events the same way.
func BenchmarkListPage100(b *testing.B) {
	bs := newBenchServer(b)
	bc := newBenchCalls(b, bs)
	sdkAndBaseline(b, int64(len(bs.listPage)), bc.sdkList, bc.baseList)
}

// pageHandler serves total conversations in pages of 100 with next_page
// links, generated on the fly so the server holds no list.
func pageHandler(total int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page := 1
		if p := r.URL.Query().Get("page"); p != "" {
			_, _ = fmt.Sscan(p, &page)
		}
		var b bytes.Buffer
		b.WriteString(`{"side_conversations":[`)
		for i := (page-1)*100 + 1; i <= min(page*100, total); i++ {
			if b.Len() > len(`{"side_conversations":[`) {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"id":"sc-%07d","subject":"Printer %d is on fire","state":"open","preview_text":"I was trying to print an email when the printer suddenly started burning","participants":[{"email":"johnny@example.com","name":"Johnny Agent","user_id":35436},{"email":"bob@example.com","name":null,"user_id":null}],"created_at":"2018-11-20T16:58:36.453+00:00","updated_at":"2018-11-20T16:58:36.453+00:00"}`, i, i)
		}
		next := "null"
		if page*100 < total {
			next = fmt.Sprintf(`"http://%s/api/v2/tickets/1/side_conversations?page=%d&per_page=100"`, r.Host, page+1)
		}
		fmt.Fprintf(&b, `],"next_page":%s,"previous_page":null,"count":%d}`, next, total)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b.Bytes())
	})
}

// BenchmarkListIterMemory walks 1,000 and 100,000 conversations and reports
// the largest live heap seen between pages (after a GC), above the heap
// before the walk: what iterating retains, which should be about one page
// whatever the total.
func BenchmarkListIterMemory(b *testing.B) {
	for _, total := range []int{100, 1_000, 100_000} {
		b.Run(fmt.Sprintf("items=%d", total), func(b *testing.B) {
			srv := httptest.NewServer(pageHandler(total))
			defer srv.Close()
			c, err := NewClient("", APIToken(testEmail, testToken), WithBaseURL(srv.URL), WithHTTPClient(srv.Client()))
			if err != nil {
				b.Fatal(err)
			}
			var peak uint64
			for b.Loop() {
				peak = max(peak, iterPeakHeap(b, c, total))
			}
			b.ReportMetric(float64(peak), "peak-live-B")
		})
	}
}

func iterPeakHeap(tb testing.TB, c *Client, total int) uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak uint64
	n := 0
	for sc, err := range c.SideConversations.ListIter(context.Background(), 1, &ListOptions{PerPage: 100}) {
		if err != nil {
			tb.Fatal(err)
		}
		n++
		if n%100 == 50 || n == total { // mid-page: the current page is live
			runtime.GC()
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > base {
				peak = max(peak, ms.HeapAlloc-base)
			}
		}
		_ = sc
	}
	if n != total {
		tb.Fatalf("walked %d of %d", n, total)
	}
	return peak
}

// cannedTransport answers every request with the same body without a
// network, so that a benchmark measures only what happens in the client.
type cannedTransport struct {
	status int
	body   []byte
}

func (c cannedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	return &http.Response{
		StatusCode:    c.status,
		Header:        http.Header{"Content-Type": {"application/json; charset=utf-8"}, "X-Zendesk-Request-Id": {"bench"}},
		Body:          io.NopCloser(bytes.NewReader(c.body)),
		ContentLength: int64(len(c.body)),
		Request:       req,
	}, nil
}

// BenchmarkShowClientOnly is BenchmarkShow without the network and the
// server: the cost of the client itself beside the baseline's.
func BenchmarkShowClientOnly(b *testing.B) {
	hc := &http.Client{Transport: cannedTransport{status: 200, body: fixture(b, "responses/show_side_conversation.json")}}
	c, err := NewClient("acme", APIToken(testEmail, testToken), WithHTTPClient(hc))
	if err != nil {
		b.Fatal(err)
	}
	bc := benchCalls{c: c, hc: hc, root: "https://acme.zendesk.com"}
	sdkAndBaseline(b, 0, bc.sdkShow, bc.baseShow)
}

// BenchmarkPaired runs the SDK call and the baseline call alternately in
// one loop, against the same loopback server, and reports the time of each
// and their ratio. Alternating cancels the drift of a shared, noisy machine
// that separate benchmarks pick up.
func BenchmarkPaired(b *testing.B) {
	bc := newBenchCalls(b, newBenchServer(b))
	ctx := context.Background()
	pairs := []struct {
		name      string
		sdk, base func(context.Context) error
	}{
		{"Show", bc.sdkShow, bc.baseShow},
		{"Create", bc.sdkCreate, bc.baseCreate},
		{"ListPage100", bc.sdkList, bc.baseList},
	}
	for _, p := range pairs {
		b.Run(p.name, func(b *testing.B) {
			sdk, base, n := alternate(b, func() error { return p.sdk(ctx) }, func() error { return p.base(ctx) })
			b.ReportMetric(float64(sdk.Nanoseconds())/float64(n), "sdk-ns/call")
			b.ReportMetric(float64(base.Nanoseconds())/float64(n), "base-ns/call")
			b.ReportMetric(float64(sdk)/float64(base), "sdk/base")
		})
	}
}

// alternate runs x and y alternately, each first every other time, for the
// benchmark's iterations, and returns the time each took in all and the
// number of iterations.
func alternate(b *testing.B, x, y func() error) (tx, ty time.Duration, n int) {
	timed := func(f func() error) time.Duration {
		start := time.Now()
		if err := f(); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	for b.Loop() {
		if n%2 == 0 {
			tx += timed(x)
			ty += timed(y)
		} else {
			ty += timed(y)
			tx += timed(x)
		}
		n++
	}
	return tx, ty, n
}

// liveAtLastPage walks the pages once more and returns the live heap, after
// a GC, while the last page is being yielded, above the heap before the
// walk: what the walk retains by then.
func liveAtLastPage(tb testing.TB, c *Client, pages int) uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var live uint64
	walked := 0
	for _, err := range c.SideConversations.ListIter(context.Background(), 42, &ListOptions{IncludeEvents: true}) {
		if err != nil {
			tb.Fatal(err)
		}
		if walked++; walked == pages {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > base {
				live = ms.HeapAlloc - base
			}
		}
	}
	return live
}

// BenchmarkListIterUnmatchedEvents walks pages of one conversation each with
// 100 sideloaded events whose conversation never appears, served from
// memory, and reports the time and the bytes allocated per page, which
// stay flat as the walk grows because carried events are indexed by
// conversation, and the heap the walk holds at its last page, which stops
// growing once MaxCarriedEvents events are kept.
func BenchmarkListIterUnmatchedEvents(b *testing.B) {
	for _, pages := range []int{100, 1_000, 3_000} {
		b.Run(fmt.Sprintf("pages=%d", pages), func(b *testing.B) {
			c := newSideloadClient(b, &sideloadPages{
				pages:  pages,
				convs:  func(n int) []string { return []string{"p-" + strconv.Itoa(n)} },
				events: func(n int) []string { return orphans(n, 100) },
			})
			ctx := context.Background()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			walks := 0
			for b.Loop() {
				walked := 0
				for _, err := range c.SideConversations.ListIter(ctx, 42, &ListOptions{IncludeEvents: true}) {
					if err != nil {
						b.Fatal(err)
					}
					walked++
				}
				if walked != pages {
					b.Fatalf("walked %d of %d pages", walked, pages)
				}
				walks++
			}
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(walks*pages), "ns/page")
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(walks*pages), "B/page")
			b.ReportMetric(float64(liveAtLastPage(b, c, pages)), "live-B-last-page")
		})
	}
}
