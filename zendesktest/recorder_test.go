package zendesktest_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	zendesk "github.com/sideconv/zendesk"
	"github.com/sideconv/zendesk/zendesktest"
)

// Credentials that look real, so that the scrubbing can be checked.
const (
	recEmail = "jane.doe@acme-corp.com"
	recToken = "zd-Secr3t-4pi-T0ken-8f3a9c71"
	// recTicket is the ticket the recorded session works on.
	recTicket int64 = 42
	// recPartner is an outside recipient; recKept is at example.com and
	// is kept as it is.
	recPartner     = "Bob.Smith@Partner-Corp.com"
	recPartnerName = "Bob Smith"
	recKept        = "someone@example.com"
)

// recClock returns a clock that starts at a fixed time and moves a second
// on every reading, so that two servers given the same calls answer alike.
func recClock() func() time.Time {
	var mu sync.Mutex
	next := time.Date(2025, 5, 6, 7, 8, 9, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t := next
		next = next.Add(time.Second)
		return t
	}
}

func recServer(t *testing.T) *zendesktest.Server {
	t.Helper()
	return zendesktest.Start(t,
		zendesktest.WithTickets(recTicket),
		zendesktest.WithCredentials(recEmail, recToken),
		zendesktest.WithClock(recClock()),
	)
}

// recClient is the SDK client a user records with: their credentials, the
// recorder under the client.
func recClient(t *testing.T, srv *zendesktest.Server, rec *zendesktest.Recorder) *zendesk.Client {
	t.Helper()
	c, err := zendesk.NewClient("", zendesk.APIToken(recEmail, recToken),
		zendesk.WithBaseURL(srv.URL()),
		zendesk.WithHTTPClient(&http.Client{Transport: rec}),
		zendesk.WithoutRetries(),
	)
	require.NoError(t, err)
	return c
}

// recConv is what a test compares of a side conversation.
type recConv struct {
	ID, Subject string
	State       zendesk.State
	TicketID    int64
	EventTypes  []zendesk.EventType
	EventIDs    []string
}

func recConvOf(sc zendesk.SideConversation) recConv {
	out := recConv{ID: sc.ID, Subject: sc.Subject, State: sc.State, TicketID: sc.TicketID}
	for _, ev := range sc.Events {
		out.EventTypes = append(out.EventTypes, ev.Type)
		out.EventIDs = append(out.EventIDs, ev.ID)
	}
	return out
}

// recSession is what the client decoded during one run of recDrive.
type recSession struct {
	UploadID, UploadName string
	Created              []recConv
	CreateEvents         []zendesk.EventType
	AttachmentIDs        []string
	ReplyEvent           zendesk.EventType
	ReplyEventID         string
	Updated              recConv
	FirstPage            []recConv
	FirstPageCount       int
	HasNextPage          bool
	All                  []recConv
	Events               []recConv
	RequestIDs           []string
}

// recDrive makes the calls of a recorded session: an upload, three
// conversations (one with the attachment), a reply, an update, a page of
// the list with events, the whole list over two pages, and the events of
// one conversation.
func recDrive(t *testing.T, c *zendesk.Client) (recSession, *zendesk.Response) {
	t.Helper()
	ctx := t.Context()
	sc := c.SideConversations
	var out recSession

	up, resp, err := sc.UploadAttachment(ctx, "notes.txt", strings.NewReader("Call "+recEmail+" back about the invoice.\n"))
	require.NoError(t, err)
	out.UploadID, out.UploadName = up.ID, up.Name
	out.RequestIDs = append(out.RequestIDs, resp.RequestID)

	requests := []zendesk.CreateRequest{
		{Message: zendesk.Message{
			Subject:       "Invoice 1042",
			Body:          "Could you check the invoice? Jane (" + recEmail + ")",
			To:            []zendesk.Participant{zendesk.NamedEmail(recPartner, recPartnerName)},
			AttachmentIDs: []string{up.ID},
		}},
		{Message: zendesk.Message{Subject: "Refund", Body: "Please refund.", To: []zendesk.Participant{zendesk.Email(recKept)}}},
		{Message: zendesk.Message{Subject: "Escalation", Body: "Please look.", To: []zendesk.Participant{zendesk.SupportGroup(7)}}},
	}
	for _, req := range requests {
		res, resp, err := sc.Create(ctx, recTicket, req)
		require.NoError(t, err)
		out.Created = append(out.Created, recConvOf(res.SideConversation))
		out.CreateEvents = append(out.CreateEvents, res.Event.Type)
		out.RequestIDs = append(out.RequestIDs, resp.RequestID)
		if res.Event.Message != nil {
			for _, a := range res.Event.Message.Attachments {
				out.AttachmentIDs = append(out.AttachmentIDs, a.ID)
			}
		}
	}
	first := out.Created[0].ID

	rep, _, err := sc.Reply(ctx, recTicket, first, zendesk.ReplyRequest{Message: zendesk.Message{
		Body: "Any news?",
		To:   []zendesk.Participant{zendesk.Email(recPartner)},
	}})
	require.NoError(t, err)
	out.ReplyEvent, out.ReplyEventID = rep.Event.Type, rep.Event.ID

	upd, _, err := sc.Update(ctx, recTicket, out.Created[2].ID, zendesk.UpdateRequest{State: zendesk.StateClosed})
	require.NoError(t, err)
	out.Updated = recConvOf(*upd)

	opts := &zendesk.ListOptions{PerPage: 2, IncludeEvents: true}
	page, listResp, err := sc.List(ctx, recTicket, opts)
	require.NoError(t, err)
	for _, p := range page {
		out.FirstPage = append(out.FirstPage, recConvOf(p))
	}
	out.FirstPageCount, out.HasNextPage = listResp.Count, listResp.NextPage != ""

	for conv, err := range sc.ListIter(ctx, recTicket, opts) {
		require.NoError(t, err)
		out.All = append(out.All, recConvOf(conv))
	}

	events, _, err := sc.ListEvents(ctx, recTicket, first, nil)
	require.NoError(t, err)
	out.Events = append(out.Events, recConvOf(zendesk.SideConversation{ID: first, Events: events}))
	return out, listResp
}

func TestRecorderRecordsScrubsAndReplaysSDKCalls(t *testing.T) {
	t.Parallel()
	srv := recServer(t)
	rec := zendesktest.NewRecorder(nil)
	recorded, _ := recDrive(t, recClient(t, srv, rec))

	// The session is what the test means it to be.
	require.Len(t, recorded.Created, 3)
	assert.Equal(t, []zendesk.EventType{zendesk.EventCreate, zendesk.EventCreate, zendesk.EventCreate}, recorded.CreateEvents)
	assert.Equal(t, []string{recorded.UploadID}, recorded.AttachmentIDs)
	assert.Empty(t, recorded.ReplyEvent, "Reply's documented answer carries no event")
	assert.Equal(t, zendesk.StateClosed, recorded.Updated.State)
	assert.Len(t, recorded.FirstPage, 2)
	assert.True(t, recorded.HasNextPage)
	require.Len(t, recorded.All, 3, "ListIter followed next_page to the second page")
	assert.Equal(t, []zendesk.EventType{zendesk.EventCreate, zendesk.EventReply}, recorded.All[0].EventTypes)
	assert.Equal(t, []zendesk.EventType{zendesk.EventCreate, zendesk.EventUpdate}, recorded.All[2].EventTypes)

	// 1 upload, 3 creates, reply, update, list, 2 pages of ListIter, events.
	interactions := rec.Interactions()
	require.Len(t, interactions, 10)
	upload := interactions[0]
	assert.Equal(t, http.MethodPost, upload.Request.Method)
	assert.Equal(t, "/api/v2/tickets/side_conversations/attachments", upload.Request.Path)
	assert.Equal(t, "multipart/form-data; boundary=zendesktest-recorded-boundary", upload.Request.Header.Get("Content-Type"),
		"a fixed boundary keeps recordings of the same upload alike")
	assert.True(t, strings.HasPrefix(upload.Request.Body.Text, "--zendesktest-recorded-boundary\r\n"), upload.Request.Body.Text)
	assert.Contains(t, upload.Request.Body.Text, "Call user1@example.com back", "the attachment's text, scrubbed")
	assert.Equal(t, http.StatusCreated, upload.Response.Status)
	assert.Equal(t, recorded.RequestIDs[0], upload.Response.Header.Get("X-Zendesk-Request-Id"))
	secondPage := interactions[8]
	assert.Equal(t, "/api/v2/tickets/42/side_conversations", secondPage.Request.Path)
	assert.Equal(t, "include=events&page=2&per_page=2", secondPage.Request.Query)

	path := filepath.Join(t.TempDir(), "cassette.json")
	require.NoError(t, rec.Save(path))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	saved := string(data)

	// Nothing secret or personal is left.
	basic := base64.StdEncoding.EncodeToString([]byte(recEmail + "/token:" + recToken))
	host := strings.TrimPrefix(srv.URL(), "http://")
	for _, leak := range []string{recToken, basic, recEmail, "acme-corp", strings.ToLower(recPartner), "partner-corp", recPartnerName, host, "127.0.0.1", "http://"} {
		assert.NotContains(t, strings.ToLower(saved), strings.ToLower(leak))
	}
	assert.NotContains(t, strings.ToLower(saved), "authorization")
	// What replaced it, consistently.
	assert.Contains(t, saved, `"email": "user1@example.com"`, "the agent, first seen in the upload")
	assert.Contains(t, saved, `"name": "Person 1"`, "people's names are replaced")
	assert.Contains(t, saved, `"name": "Person 2"`)
	assert.NotContains(t, saved, zendesktest.AgentName)
	assert.Contains(t, saved, recKept, "example.com addresses are kept")
	assert.Contains(t, saved, `"next_page": "https://example.zendesk.com/api/v2/tickets/42/side_conversations?include=events&page=2&per_page=2"`)
	assert.Contains(t, saved, `"url": "https://example.zendesk.com/api/v2/tickets/42/side_conversations/`)
	assert.Contains(t, saved, `"content_url": "https://example.zendesk.com/api/v2/tickets/42/side_conversations/`)

	// One indented object with "interactions", the same bytes every time.
	assert.True(t, strings.HasPrefix(saved, "{\n  \"interactions\": [\n    {\n"), saved[:min(len(saved), 80)])
	var top map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(data, &top))
	assert.Len(t, top, 1)
	again := filepath.Join(t.TempDir(), "again.json")
	require.NoError(t, rec.Save(again))
	data2, err := os.ReadFile(again)
	require.NoError(t, err)
	assert.Equal(t, saved, string(data2))

	cas, err := zendesktest.LoadCassette(path)
	require.NoError(t, err)
	wantJSON, err := json.Marshal(interactions)
	require.NoError(t, err)
	gotJSON, err := json.Marshal(cas.Interactions)
	require.NoError(t, err)
	require.JSONEq(t, string(wantJSON), string(gotJSON), "the file holds what was recorded")

	t.Run("Transport", func(t *testing.T) {
		t.Parallel()
		// Recorded links name https://example.zendesk.com: the client of
		// the subdomain "example" follows them.
		c, err := zendesk.NewClient("example", zendesk.APIToken("anyone@example.com", "not-a-secret"),
			zendesk.WithHTTPClient(&http.Client{Transport: cas.Transport()}), zendesk.WithoutRetries())
		require.NoError(t, err)
		replayed, listResp := recDrive(t, c)
		assert.Equal(t, recorded, replayed)
		assert.Equal(t, "https://example.zendesk.com/api/v2/tickets/42/side_conversations?include=events&page=2&per_page=2", listResp.NextPage)
	})

	t.Run("Register", func(t *testing.T) {
		t.Parallel()
		const base = "https://mock.zendesk.test"
		mt := httpmock.NewMockTransport()
		cas.Register(mt, base)
		c, err := zendesk.NewClient("", zendesk.APIToken("anyone@example.com", "not-a-secret"),
			zendesk.WithBaseURL(base), zendesk.WithHTTPClient(&http.Client{Transport: mt}), zendesk.WithoutRetries())
		require.NoError(t, err)
		replayed, listResp := recDrive(t, c)
		assert.Equal(t, recorded, replayed)
		assert.Equal(t, base+"/api/v2/tickets/42/side_conversations?include=events&page=2&per_page=2", listResp.NextPage)
		info := mt.GetCallCountInfo()
		assert.Equal(t, 3, info["POST "+base+"/api/v2/tickets/42/side_conversations"], "one responder served the three creates")
		assert.Equal(t, 2, info["GET "+base+"/api/v2/tickets/42/side_conversations?include=events&per_page=2"])
	})
}

func TestRecorderIsPortableAcrossHosts(t *testing.T) {
	t.Parallel()
	// The same calls against two servers on different ports make the same
	// cassette, byte for byte: nothing of the host stays, and nothing
	// random (such as a multipart boundary).
	var files [2]string
	for i := range files {
		srv := recServer(t)
		rec := zendesktest.NewRecorder(nil)
		recDrive(t, recClient(t, srv, rec))
		path := filepath.Join(t.TempDir(), "cassette.json")
		require.NoError(t, rec.Save(path))
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		files[i] = string(data)
	}
	require.NotEmpty(t, files[0])
	assert.Equal(t, files[0], files[1])
}

// recRoundTrip is a scripted transport under a Recorder.
type recRoundTrip func(*http.Request) (*http.Response, error)

func (f recRoundTrip) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

func recResponse(req *http.Request, status int, header http.Header, body string) *http.Response {
	if header == nil {
		header = http.Header{}
	}
	return &http.Response{
		StatusCode: status, Status: fmt.Sprint(status), Header: header, Request: req,
		Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)),
	}
}

func TestRecorderScrubs(t *testing.T) {
	t.Parallel()
	const bearer = "Bearer oauth-access-t0ken-0123456789"
	responseBody := `{
	  "side_conversation": {
	    "url": "https://proxy.internal:8443/api/v2/tickets/1/side_conversations/abc",
	    "brand_url": "https://SUPPORT.acme.test/hc",
	    "unrelated": "https://notsupport.acme.test/x and support.acme.test.evil.test",
	    "participants": [
	      {"user_id": 7, "name": "Jane Doe", "email": "Jane.Doe@Acme-Corp.com"},
	      {"user_id": 8, "name": "Jane Doe", "email": "jane.doe@acme-corp.com"},
	      {"user_id": null, "name": "Bob", "email": "bob@example.com"},
	      {"slack_channel_id": "C1", "name": "#billing"}
	    ],
	    "preview_text": "Ask <b>jane.doe@acme-corp.com</b> or carol@acme.test, not logo@2x.png",
	    "credentials": {"Token": "t1", "ACCESS_TOKEN": "t2", "refresh_token": "t3", "password": "p",
	      "api_token": "t4", "Secret": {"nested": 1}, "upload_token": "t5", "client_secret": "s", "kept": "visible", "empty": null},
	    "content_url": "https://proxy.internal:8443/attachments/token/AbCdEf123/?name=a.png",
	    "link": "https://proxy.internal:8443/x?page=2&access_token=abc&per_page=1",
	    "echo": "` + bearer + `",
	    "big": 12345678901234567890
	  }
	}`
	var forwarded *http.Request
	next := recRoundTrip(func(req *http.Request) (*http.Response, error) {
		forwarded = req
		h := http.Header{}
		h.Set("Content-Type", "application/json; charset=utf-8")
		h.Set("X-Zendesk-Request-Id", "req-1")
		h.Set("Retry-After", "7")
		h.Set("X-Rate-Limit", "700")
		h.Set("X-Rate-Limit-Remaining", "699")
		h.Set("ratelimit-remaining", "99")
		h.Set("Set-Cookie", "session=secret-cookie")
		h.Set("X-Other", "dropped")
		return recResponse(req, http.StatusOK, h, responseBody), nil
	})
	rec := zendesktest.NewRecorder(next, zendesktest.WithScrubHost("support.acme.test"), zendesktest.WithScrubString("Acme Corp", "Example Co"))

	reqBody := `{"message":{"body":"From Acme Corp: write to jane.doe@acme-corp.com","to":[{"email":"carol@acme.test"}]},"password":"hunter2"}`
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost,
		"https://user:pass@proxy.internal:8443/api/v2/tickets/1/side_conversations?email=jane.doe%40acme-corp.com&api_token=abc&page=2", strings.NewReader(reqBody))
	require.NoError(t, err)
	req.Header.Set("Authorization", bearer)
	req.Header.Set("Cookie", "session=secret-cookie")
	req.Header.Set("Content-Type", "application/json")

	resp, err := rec.RoundTrip(req)
	require.NoError(t, err)
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, responseBody, string(got), "the caller reads the body as it came")
	assert.Same(t, req, forwarded, "a request with GetBody is forwarded as it is")
	assert.Equal(t, bearer, req.Header.Get("Authorization"), "the request is not changed")

	its := rec.Interactions()
	require.Len(t, its, 1)
	it := its[0]
	assert.Equal(t, http.MethodPost, it.Request.Method)
	assert.Equal(t, "/api/v2/tickets/1/side_conversations", it.Request.Path)
	q, err := url.ParseQuery(it.Request.Query)
	require.NoError(t, err)
	assert.Equal(t, url.Values{"email": {"user1@example.com"}, "api_token": {"[REDACTED]"}, "page": {"2"}}, q)
	assert.Equal(t, http.Header{"Content-Type": {"application/json"}}, it.Request.Header, "Content-Type only")
	assert.JSONEq(t, `{"message":{"body":"From Example Co: write to user1@example.com","to":[{"email":"user2@example.com"}]},"password":"[REDACTED]"}`,
		string(it.Request.Body.JSON))

	assert.Equal(t, http.StatusOK, it.Response.Status)
	assert.Equal(t, http.Header{
		"Content-Type":           {"application/json; charset=utf-8"},
		"X-Zendesk-Request-Id":   {"req-1"},
		"Retry-After":            {"7"},
		"X-Rate-Limit":           {"700"},
		"X-Rate-Limit-Remaining": {"699"},
		"Ratelimit-Remaining":    {"99"},
	}, it.Response.Header)
	assert.JSONEq(t, `{
	  "side_conversation": {
	    "url": "https://example.zendesk.com/api/v2/tickets/1/side_conversations/abc",
	    "brand_url": "https://example.zendesk.com/hc",
	    "unrelated": "https://notsupport.acme.test/x and support.acme.test.evil.test",
	    "participants": [
	      {"user_id": 7, "name": "Person 1", "email": "user1@example.com"},
	      {"user_id": 8, "name": "Person 1", "email": "user1@example.com"},
	      {"user_id": null, "name": "Person 2", "email": "bob@example.com"},
	      {"slack_channel_id": "C1", "name": "#billing"}
	    ],
	    "preview_text": "Ask <b>user1@example.com</b> or user2@example.com, not logo@2x.png",
	    "credentials": {"Token": "[REDACTED]", "ACCESS_TOKEN": "[REDACTED]", "refresh_token": "[REDACTED]", "password": "[REDACTED]",
	      "api_token": "[REDACTED]", "Secret": "[REDACTED]", "upload_token": "[REDACTED]", "client_secret": "[REDACTED]", "kept": "visible", "empty": null},
	    "content_url": "https://example.zendesk.com/attachments/token/REDACTED/?name=a.png",
	    "link": "https://example.zendesk.com/x?page=2&access_token=REDACTED&per_page=1",
	    "echo": "[REDACTED]",
	    "big": 12345678901234567890
	  }
	}`, string(it.Response.Body.JSON))
	assert.Contains(t, string(it.Response.Body.JSON), `"preview_text":"Ask <b>`, "HTML characters stay readable")
	assert.Contains(t, string(it.Response.Body.JSON), `12345678901234567890`, "numbers keep their digits")

	all, err := json.Marshal(its)
	require.NoError(t, err)
	for _, leak := range []string{"oauth-access-t0ken", "secret-cookie", "hunter2", "acme-corp", "Acme Corp", "proxy.internal", "user:pass", "Jane Doe", "dropped"} {
		assert.NotContains(t, string(all), leak)
	}
}

func TestRecorderBodyForms(t *testing.T) {
	t.Parallel()
	binary := []byte{0xff, 0xd8, 0xff, 0x00, 'a', '@', 'b'}
	answers := map[string]struct {
		ct   string
		body []byte
	}{
		"/text":   {"text/plain", []byte("Too many requests from jane@acme.test; retry later")},
		"/binary": {"image/jpeg", binary},
		"/empty":  {"", nil},
		"/scalar": {"application/json", []byte(`"just a string"`)},
	}
	rec := zendesktest.NewRecorder(recRoundTrip(func(req *http.Request) (*http.Response, error) {
		a := answers[req.URL.Path]
		h := http.Header{}
		if a.ct != "" {
			h.Set("Content-Type", a.ct)
		}
		return recResponse(req, http.StatusTooManyRequests, h, string(a.body)), nil
	}))
	client := &http.Client{Transport: rec}
	for _, p := range []string{"/text", "/binary", "/empty", "/scalar"} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "https://acme.zendesk.com"+p, nil)
		require.NoError(t, err)
		resp, err := client.Do(req)
		require.NoError(t, err)
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		assert.Equal(t, answers[p].body, nilIfEmpty(b), p)
	}
	its := rec.Interactions()
	require.Len(t, its, 4)
	assert.Equal(t, zendesktest.InteractionBody{Text: "Too many requests from user1@example.com; retry later"}, its[0].Response.Body)
	assert.Equal(t, zendesktest.InteractionBody{Base64: base64.StdEncoding.EncodeToString(binary)}, its[1].Response.Body)
	assert.Equal(t, zendesktest.InteractionBody{}, its[2].Response.Body)
	assert.Equal(t, zendesktest.InteractionBody{Text: `"just a string"`}, its[3].Response.Body)
	for _, it := range its {
		assert.Equal(t, http.StatusTooManyRequests, it.Response.Status)
		assert.Equal(t, zendesktest.InteractionBody{}, it.Request.Body)
	}
	b, err := its[1].Response.Body.Bytes()
	require.NoError(t, err)
	assert.Equal(t, binary, b)
}

func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

func TestRecorderBodyWithoutGetBody(t *testing.T) {
	t.Parallel()
	var got []byte
	rec := zendesktest.NewRecorder(recRoundTrip(func(req *http.Request) (*http.Response, error) {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		got = b
		return recResponse(req, http.StatusCreated, nil, `{"ok":true}`), nil
	}))
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "https://acme.zendesk.com/api/v2/x",
		io.NopCloser(strings.NewReader("plain text body")))
	require.NoError(t, err)
	require.Nil(t, req.GetBody)
	resp, err := rec.RoundTrip(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, "plain text body", string(got), "the next transport gets the whole body")
	its := rec.Interactions()
	require.Len(t, its, 1)
	assert.Equal(t, "plain text body", its[0].Request.Body.Text)
}

func TestRecorderFailures(t *testing.T) {
	t.Parallel()
	broken := errors.New("connection reset")
	rec := zendesktest.NewRecorder(recRoundTrip(func(req *http.Request) (*http.Response, error) {
		if req.URL.Path == "/down" {
			return nil, broken
		}
		resp := recResponse(req, http.StatusOK, nil, "")
		resp.Body = io.NopCloser(io.MultiReader(strings.NewReader(`{"half":`), recErrReader{broken}))
		return resp, nil
	}))

	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "https://acme.zendesk.com/down", nil)
	require.NoError(t, err)
	resp, err := rec.RoundTrip(req) //nolint:bodyclose // there is no response
	require.ErrorIs(t, err, broken)
	assert.Nil(t, resp)

	req, err = http.NewRequestWithContext(t.Context(), http.MethodGet, "https://acme.zendesk.com/truncated", nil)
	require.NoError(t, err)
	resp, err = rec.RoundTrip(req)
	require.NoError(t, err)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, resp.Body.Close())
	require.ErrorIs(t, err, broken, "the caller sees the failure")
	assert.Equal(t, `{"half":`, string(b), "after what came")

	assert.Empty(t, rec.Interactions(), "failed exchanges are not recorded")
}

type recErrReader struct{ err error }

func (r recErrReader) Read([]byte) (int, error) { return 0, r.err }

func TestRecorderConcurrentUse(t *testing.T) {
	t.Parallel()
	rec := zendesktest.NewRecorder(recRoundTrip(func(req *http.Request) (*http.Response, error) {
		body := fmt.Sprintf(`{"who":"shared@acme.test","own":"%s@acme.test"}`, req.URL.Query().Get("n"))
		return recResponse(req, http.StatusOK, nil, body), nil
	}))
	client := &http.Client{Transport: rec}
	const n = 32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, fmt.Sprintf("https://acme.zendesk.com/api/v2/x?n=%d", i), nil)
			if err != nil {
				errs <- err
				return
			}
			resp, err := client.Do(req)
			if err != nil {
				errs <- err
				return
			}
			_, err = io.Copy(io.Discard, resp.Body)
			errs <- errors.Join(err, resp.Body.Close())
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	its := rec.Interactions()
	require.Len(t, its, n)
	shared := map[string]bool{}
	own := map[string]bool{}
	for _, it := range its {
		var m map[string]string
		require.NoError(t, json.Unmarshal(it.Response.Body.JSON, &m))
		shared[m["who"]] = true
		own[m["own"]] = true
	}
	assert.Len(t, shared, 1, "one address, one replacement: %v", shared)
	assert.Len(t, own, n, "distinct addresses, distinct replacements")
	for addr := range own {
		assert.Regexp(t, `^user\d+@example\.com$`, addr)
	}
}

// recCassette is a hand-made cassette: two answers to the same list
// request, one to a show, one to an upload.
func recCassette() *zendesktest.Cassette {
	list := func(status int, body string) zendesktest.Interaction {
		return zendesktest.Interaction{
			Request: zendesktest.InteractionRequest{Method: http.MethodGet, Path: "/api/v2/tickets/1/side_conversations", Query: "b=2&a=1"},
			Response: zendesktest.InteractionResponse{
				Status: status,
				Header: http.Header{"Content-Type": {"application/json"}},
				Body:   zendesktest.InteractionBody{JSON: json.RawMessage(body)},
			},
		}
	}
	return &zendesktest.Cassette{Interactions: []zendesktest.Interaction{
		list(http.StatusTooManyRequests, `{"error":"slow down"}`),
		list(http.StatusOK, `{"next_page":"https://example.zendesk.com/api/v2/tickets/1/side_conversations?page=2"}`),
		{
			Request:  zendesktest.InteractionRequest{Method: http.MethodGet, Path: "/api/v2/tickets/1/side_conversations/a%20b"},
			Response: zendesktest.InteractionResponse{Status: http.StatusOK, Body: zendesktest.InteractionBody{Text: "show"}},
		},
		{
			Request:  zendesktest.InteractionRequest{Method: http.MethodPost, Path: "/api/v2/upload"},
			Response: zendesktest.InteractionResponse{Status: http.StatusCreated, Body: zendesktest.InteractionBody{Base64: base64.StdEncoding.EncodeToString([]byte{0, 1, 2})}},
		},
	}}
}

// recGet sends one request through rt and returns status and body.
func recGet(t *testing.T, rt http.RoundTripper, method, rawURL string) (int, string, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, rawURL, nil)
	require.NoError(t, err)
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		return 0, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b), nil
}

func TestCassetteTransport(t *testing.T) {
	t.Parallel()
	rt := recCassette().Transport()
	const list = "https://anywhere.test/api/v2/tickets/1/side_conversations"

	// Query order does not matter; repeated requests go through the
	// recorded answers in order, then the last one repeats.
	for i, want := range []int{http.StatusTooManyRequests, http.StatusOK, http.StatusOK} {
		status, body, err := recGet(t, rt, http.MethodGet, list+"?a=1&b=2")
		require.NoError(t, err)
		assert.Equal(t, want, status, "request %d", i)
		if want == http.StatusOK {
			assert.JSONEq(t, `{"next_page":"https://example.zendesk.com/api/v2/tickets/1/side_conversations?page=2"}`, body,
				"Transport serves links as recorded")
		}
	}

	status, body, err := recGet(t, rt, http.MethodGet, "http://other.test/api/v2/tickets/1/side_conversations/a%20b")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "show", body)

	status, body, err = recGet(t, rt, http.MethodPost, "https://anywhere.test/api/v2/upload")
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, status)
	assert.Equal(t, "\x00\x01\x02", body)

	for _, miss := range []struct{ method, url string }{
		{http.MethodGet, list},                  // no query
		{http.MethodGet, list + "?a=1&b=2&c=3"}, // another query
		{http.MethodPost, list + "?a=1&b=2"},    // another method
		{http.MethodGet, list + "/x"},           // another path
	} {
		_, _, err := recGet(t, rt, miss.method, miss.url)
		require.Error(t, err, "%s %s", miss.method, miss.url)
		assert.Contains(t, err.Error(), "zendesktest: the cassette has no interaction for "+miss.method+" "+miss.url)
	}

	// Each Transport starts at the beginning.
	status, _, err = recGet(t, recCassette().Transport(), http.MethodGet, list+"?b=2&a=1")
	require.NoError(t, err)
	assert.Equal(t, http.StatusTooManyRequests, status)
}

func TestCassetteRegister(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	// A base URL ending in /api/v2, as zendesk.WithBaseURL accepts it.
	recCassette().Register(mt, "https://mock.test/api/v2/")
	const list = "https://mock.test/api/v2/tickets/1/side_conversations"

	for i, want := range []int{http.StatusTooManyRequests, http.StatusOK, http.StatusOK} {
		status, body, err := recGet(t, mt, http.MethodGet, list+"?a=1&b=2")
		require.NoError(t, err)
		assert.Equal(t, want, status, "request %d", i)
		if want == http.StatusOK {
			assert.JSONEq(t, `{"next_page":"https://mock.test/api/v2/tickets/1/side_conversations?page=2"}`, body,
				"links point at the base URL")
		}
	}
	status, body, err := recGet(t, mt, http.MethodGet, "https://mock.test/api/v2/tickets/1/side_conversations/a%20b")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "show", body)

	// httpmock would fall back to the URL without its query; a recorded
	// request without one does not answer another query.
	_, _, err = recGet(t, mt, http.MethodGet, "https://mock.test/api/v2/upload?x=1")
	require.Error(t, err)
	_, _, err = recGet(t, mt, http.MethodGet, "https://mock.test/api/v2/tickets/1/side_conversations/a%20b?include=events")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no interaction for GET https://mock.test/api/v2/tickets/1/side_conversations/a%20b?include=events")
	_, _, err = recGet(t, mt, http.MethodGet, list+"?a=1")
	require.Error(t, err)

	info := mt.GetCallCountInfo()
	assert.Equal(t, 3, info["GET "+list+"?a=1&b=2"])
	assert.Len(t, info, 3, "one responder per method and URL: %v", info)
}

func TestCassetteSaveAndLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()

	empty := filepath.Join(dir, "empty.json")
	require.NoError(t, (&zendesktest.Cassette{}).Save(empty))
	data, err := os.ReadFile(empty)
	require.NoError(t, err)
	assert.Equal(t, "{\n  \"interactions\": []\n}\n", string(data))

	path := filepath.Join(dir, "hand.json")
	want := recCassette()
	require.NoError(t, want.Save(path))
	got, err := zendesktest.LoadCassette(path)
	require.NoError(t, err)
	require.Len(t, got.Interactions, len(want.Interactions))
	for i := range want.Interactions {
		wb, err := want.Interactions[i].Response.Body.Bytes()
		require.NoError(t, err)
		gb, err := got.Interactions[i].Response.Body.Bytes()
		require.NoError(t, err)
		if len(want.Interactions[i].Response.Body.JSON) > 0 {
			assert.JSONEq(t, string(wb), string(gb))
		} else {
			assert.Equal(t, wb, gb)
		}
		assert.Equal(t, want.Interactions[i].Request, got.Interactions[i].Request)
	}

	require.Error(t, (&zendesktest.Cassette{}).Save(filepath.Join(dir, "missing", "x.json")), "the directory must exist")

	bad := map[string]string{
		"malformed":    `{"interactions": [`,
		"unknown":      `{"interactions": [], "extra": 1}`,
		"trailing":     `{"interactions": []} {}`,
		"no method":    `{"interactions": [{"request": {"path": "/x"}, "response": {"status": 200}}]}`,
		"relative":     `{"interactions": [{"request": {"method": "GET", "path": "x"}, "response": {"status": 200}}]}`,
		"no status":    `{"interactions": [{"request": {"method": "GET", "path": "/x"}, "response": {}}]}`,
		"two bodies":   `{"interactions": [{"request": {"method": "GET", "path": "/x"}, "response": {"status": 200, "body": {"text": "a", "base64": "YQ=="}}}]}`,
		"bad base64":   `{"interactions": [{"request": {"method": "GET", "path": "/x"}, "response": {"status": 200, "body": {"base64": "%%%"}}}]}`,
		"unknown body": `{"interactions": [{"request": {"method": "GET", "path": "/x"}, "response": {"status": 200, "body": {"xml": "<a/>"}}}]}`,
	}
	for name, content := range bad {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".json")
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		_, err := zendesktest.LoadCassette(p)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "zendesktest: LoadCassette", name)
	}
	_, err = zendesktest.LoadCassette(filepath.Join(dir, "nothing-here.json"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestInteractionsAreCopies(t *testing.T) {
	t.Parallel()
	rec := zendesktest.NewRecorder(recRoundTrip(func(req *http.Request) (*http.Response, error) {
		h := http.Header{}
		h.Set("Content-Type", "application/json")
		return recResponse(req, http.StatusOK, h, `{"a":1}`), nil
	}))
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "https://acme.zendesk.com/x", nil)
	require.NoError(t, err)
	resp, err := rec.RoundTrip(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())

	first := rec.Interactions()
	first[0].Response.Header.Set("Content-Type", "changed")
	first[0].Response.Body.JSON[1] = 'X'
	second := rec.Interactions()
	assert.Equal(t, "application/json", second[0].Response.Header.Get("Content-Type"))
	assert.True(t, bytes.Equal([]byte(`{"a":1}`), second[0].Response.Body.JSON))
}

func ExampleRecorder() {
	// Record: the Recorder goes under the client. Against Zendesk, use
	// zendesk.NewClient("acme", creds, zendesk.WithHTTPClient(...)) and
	// rec.Save("testdata/recorded/ticket.json").
	srv := zendesktest.NewServer(zendesktest.WithTickets(42), zendesktest.WithCredentials("jane.doe@acme-corp.com", "s3cr3t-token"))
	defer srv.Close()
	rec := zendesktest.NewRecorder(nil)
	client := srv.Client(zendesk.WithHTTPClient(&http.Client{Transport: rec}))
	ctx := context.Background()
	if _, _, err := client.SideConversations.Create(ctx, 42, zendesk.CreateRequest{Message: zendesk.Message{
		Subject: "Invoice 1042",
		Body:    "Could you check it?",
		To:      []zendesk.Participant{zendesk.Email("bob@partner-corp.com")},
	}}); err != nil {
		fmt.Println(err)
		return
	}
	cas := &zendesktest.Cassette{Interactions: rec.Interactions()} // or zendesktest.LoadCassette(path)
	res := cas.Interactions[0].Response.Body.JSON
	fmt.Println(strings.Contains(string(res), "acme-corp.com"), strings.Contains(string(res), srv.URL()))

	// Replay: no server, the same answers. Without retries, a call the
	// cassette does not hold fails at once.
	replay, err := zendesk.NewClient("example", zendesk.APIToken("anyone@example.com", "unused"),
		zendesk.WithHTTPClient(&http.Client{Transport: cas.Transport()}), zendesk.WithoutRetries())
	if err != nil {
		fmt.Println(err)
		return
	}
	convs, _, err := replay.SideConversations.List(ctx, 42, nil)
	if err != nil {
		fmt.Println(err) // the cassette holds no List: this is what an unrecorded call gets
	}
	fmt.Println(len(convs))
	again, _, err := replay.SideConversations.Create(ctx, 42, zendesk.CreateRequest{Message: zendesk.Message{
		Subject: "Invoice 1042",
		Body:    "Could you check it?",
		To:      []zendesk.Participant{zendesk.Email("bob@partner-corp.com")},
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(again.SideConversation.Subject, again.SideConversation.State, again.SideConversation.Participants[1].Email)
	// Output:
	// false false
	// zendesk: GET https://example.zendesk.com/api/v2/tickets/42/side_conversations: zendesktest: the cassette has no interaction for GET https://example.zendesk.com/api/v2/tickets/42/side_conversations
	// 0
	// Invoice 1042 open user1@example.com
}
