package zendesktest_test

import (
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/dnaeon/go-vcr.v4/pkg/cassette"
	"gopkg.in/dnaeon/go-vcr.v4/pkg/recorder"

	zendesk "github.com/sideconv/zendesk"
	"github.com/sideconv/zendesk/zendesktest"
)

// Credentials and people that look real, so that the scrubbing can be
// checked.
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

func recServer(t *testing.T) *zendesktest.Server {
	t.Helper()
	return zendesktest.Start(t,
		zendesktest.WithTickets(recTicket),
		zendesktest.WithCredentials(recEmail, recToken),
		zendesktest.WithClock(fixedClock(time.Date(2025, 5, 6, 7, 8, 9, 0, time.UTC))),
	)
}

// recordWith starts a go-vcr recorder writing name (without .yaml) in
// ModeRecordOnly with the given options, and a client for srv with the
// user's credentials on top of it.
func recordWith(t *testing.T, srv *zendesktest.Server, name string, opts ...recorder.Option) (*recorder.Recorder, *zendesk.Client) {
	t.Helper()
	opts = append([]recorder.Option{recorder.WithMode(recorder.ModeRecordOnly)}, opts...)
	rec, err := recorder.New(name, opts...)
	require.NoError(t, err)
	c, err := zendesk.NewClient("", zendesk.APIToken(recEmail, recToken),
		zendesk.WithBaseURL(srv.URL()),
		zendesk.WithHTTPClient(&http.Client{Transport: rec}),
		zendesk.WithoutRetries(),
	)
	require.NoError(t, err)
	return rec, c
}

// replayClient returns a client for the subdomain "example" that answers
// from the cassette name without any network.
func replayClient(t *testing.T, name string, opts ...zendesktest.ScrubOption) *zendesk.Client {
	t.Helper()
	rec, err := recorder.New(name, zendesktest.VCR(opts...), recorder.WithMode(recorder.ModeReplayOnly))
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, rec.Stop()) })
	c, err := zendesk.NewClient("example", zendesk.APIToken("anyone@example.com", "not-a-secret"),
		zendesk.WithHTTPClient(&http.Client{Transport: rec}), zendesk.WithoutRetries())
	require.NoError(t, err)
	return c
}

// recConv is what a test compares of a side conversation.
type recConv struct {
	ID, Subject string
	State       zendesk.State
	TicketID    int64
	Emails      []string
	Names       []string
	EventTypes  []zendesk.EventType
	EventIDs    []string
}

func recConvOf(sc zendesk.SideConversation) recConv {
	out := recConv{ID: sc.ID, Subject: sc.Subject, State: sc.State, TicketID: sc.TicketID}
	for _, p := range sc.Participants {
		out.Emails = append(out.Emails, p.Email)
		out.Names = append(out.Names, p.Name)
	}
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
	// Zendesk answers a reply with the conversation alone.
	RepliedTo      string
	ReplyEventID   string
	Updated        recConv
	FirstPage      []recConv
	FirstPageCount int
	NextPagePath   string
	All            []recConv
	Events         []recConv
	RequestIDs     []string
}

// recDrive makes the calls of a recorded session: an upload, three
// conversations (one with the attachment), a reply, an update, a page of
// the list with events, the whole list over two pages, and the events of
// one conversation.
func recDrive(t *testing.T, c *zendesk.Client) recSession {
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
	out.RepliedTo, out.ReplyEventID = rep.SideConversation.ID, rep.Event.ID

	upd, _, err := sc.Update(ctx, recTicket, out.Created[2].ID, zendesk.UpdateRequest{State: zendesk.StateClosed})
	require.NoError(t, err)
	out.Updated = recConvOf(*upd)

	opts := &zendesk.ListOptions{PerPage: 2, IncludeEvents: true}
	page, listResp, err := sc.List(ctx, recTicket, opts)
	require.NoError(t, err)
	for _, p := range page {
		out.FirstPage = append(out.FirstPage, recConvOf(p))
	}
	out.FirstPageCount = listResp.Count
	if next, err := http.NewRequest(http.MethodGet, listResp.NextPage, nil); err == nil {
		out.NextPagePath = next.URL.RequestURI()
	}

	for conv, err := range sc.ListIter(ctx, recTicket, opts) {
		require.NoError(t, err)
		out.All = append(out.All, recConvOf(conv))
	}

	events, _, err := sc.ListEvents(ctx, recTicket, first, nil)
	require.NoError(t, err)
	out.Events = append(out.Events, recConvOf(zendesk.SideConversation{ID: first, Events: events}))
	return out
}

func TestVCRRecordsScrubsAndReplaysSDKCalls(t *testing.T) {
	t.Parallel()
	srv := recServer(t)
	name := filepath.Join(t.TempDir(), "session")
	rec, c := recordWith(t, srv, name, zendesktest.VCR())
	recorded := recDrive(t, c)
	require.NoError(t, rec.Stop())

	// The session is what the test means it to be, and the client saw the
	// scrubbed answers while recording.
	require.Len(t, recorded.Created, 3)
	assert.Equal(t, []zendesk.EventType{zendesk.EventCreate, zendesk.EventCreate, zendesk.EventCreate}, recorded.CreateEvents)
	assert.Equal(t, []string{recorded.UploadID}, recorded.AttachmentIDs)
	assert.Equal(t, recorded.Created[0].ID, recorded.RepliedTo)
	assert.Empty(t, recorded.ReplyEventID, "the reference's reply answer holds no event")
	assert.Equal(t, zendesk.StateClosed, recorded.Updated.State)
	assert.Len(t, recorded.FirstPage, 2)
	assert.Equal(t, "/api/v2/tickets/42/side_conversations?include=events&page=2&per_page=2", recorded.NextPagePath)
	require.Len(t, recorded.All, 3, "ListIter followed next_page to the second page while recording")
	assert.Equal(t, []zendesk.EventType{zendesk.EventCreate, zendesk.EventReply}, recorded.All[0].EventTypes)
	assert.Equal(t, []zendesk.EventType{zendesk.EventCreate, zendesk.EventUpdate}, recorded.All[2].EventTypes)
	assert.Equal(t, []string{"user1@example.com", "user2@example.com"}, recorded.Created[0].Emails,
		"the agent first seen in the upload, then the partner")
	assert.Equal(t, []string{"Person 2", "Person 1"}, recorded.Created[0].Names, "the partner was named first, in the request")
	assert.Equal(t, []string{"user1@example.com", recKept}, recorded.Created[1].Emails)

	data, err := os.ReadFile(name + ".yaml")
	require.NoError(t, err)
	saved := string(data)

	// Nothing secret or personal is left.
	basic := base64.StdEncoding.EncodeToString([]byte(recEmail + "/token:" + recToken))
	host := strings.TrimPrefix(srv.URL(), "http://")
	for _, leak := range []string{recToken, basic, recEmail, "acme-corp", strings.ToLower(recPartner), "partner-corp",
		recPartnerName, zendesktest.AgentName, host, "127.0.0.1", "http://", "authorization", "user-agent"} {
		assert.NotContains(t, strings.ToLower(saved), strings.ToLower(leak))
	}
	// What replaced it, consistently.
	assert.Contains(t, saved, `"email": "user1@example.com"`)
	assert.Contains(t, saved, `"name": "Person 2"`)
	assert.Contains(t, saved, recKept, "example.com addresses are kept")
	assert.Contains(t, saved, `"next_page": "https://example.zendesk.com/api/v2/tickets/42/side_conversations?include=events&page=2&per_page=2"`)
	assert.Contains(t, saved, `"content_url": "https://example.zendesk.com/api/v2/tickets/42/side_conversations/`)
	assert.Contains(t, saved, "url: https://example.zendesk.com/api/v2/tickets/side_conversations/attachments\n")
	assert.Contains(t, saved, "multipart/form-data; boundary=zendesktest-recorded-boundary",
		"a fixed boundary keeps recordings of the same upload alike")
	assert.Contains(t, saved, "Call user1@example.com back", "the attachment's text, scrubbed")

	cas, err := cassette.Load(name)
	require.NoError(t, err)
	require.Len(t, cas.Interactions, 10, "1 upload, 3 creates, reply, update, list, 2 pages of ListIter, events")
	for _, it := range cas.Interactions {
		assert.Zero(t, it.Response.Duration, "no latency is replayed")
		assert.Equal(t, int64(len(it.Response.Body)), it.Response.ContentLength)
	}
	assert.Equal(t, recorded.RequestIDs[0], cas.Interactions[0].Response.Headers.Get("X-Zendesk-Request-Id"))

	t.Run("replay", func(t *testing.T) {
		t.Parallel()
		replayed := recDrive(t, replayClient(t, name))
		assert.Equal(t, recorded, replayed)
	})

	t.Run("httpmock", func(t *testing.T) {
		t.Parallel()
		const base = "https://mock.zendesk.test"
		mt := httpmock.NewMockTransport()
		cas, err := cassette.Load(name)
		require.NoError(t, err)
		require.NoError(t, zendesktest.RegisterCassette(mt, cas, base))
		c, err := zendesk.NewClient("", zendesk.APIToken("anyone@example.com", "not-a-secret"),
			zendesk.WithBaseURL(base), zendesk.WithHTTPClient(&http.Client{Transport: mt}), zendesk.WithoutRetries())
		require.NoError(t, err)
		replayed := recDrive(t, c)
		assert.Equal(t, recorded, replayed)
		info := mt.GetCallCountInfo()
		assert.Equal(t, 3, info["POST "+base+"/api/v2/tickets/42/side_conversations"], "one responder served the three creates")
		assert.Equal(t, 3, info["GET "+base+"/api/v2/tickets/42/side_conversations"], "and the three list pages")
	})
}

func TestVCRRecordingIsPortableAcrossHosts(t *testing.T) {
	t.Parallel()
	// The same calls against two servers on different ports make the same
	// cassette, byte for byte: nothing of the host stays, and nothing
	// random (such as a multipart boundary or a duration).
	var files [2]string
	for i := range files {
		srv := recServer(t)
		name := filepath.Join(t.TempDir(), "session")
		rec, c := recordWith(t, srv, name, zendesktest.VCR())
		recDrive(t, c)
		require.NoError(t, rec.Stop())
		data, err := os.ReadFile(name + ".yaml")
		require.NoError(t, err)
		files[i] = string(data)
	}
	require.NotEmpty(t, files[0])
	assert.Equal(t, files[0], files[1])
}
