package zendesktest_test

import (
	"encoding/json"
	"flag"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/dnaeon/go-vcr.v4/pkg/cassette"

	zendesk "github.com/sideconv/zendesk"
	"github.com/sideconv/zendesk/zendesktest"
)

// The cassettes in testdata/cassettes are recorded from a zendesktest
// server by the sessions below, through zendesktest.VCR:
//
//	go test ./zendesktest -run TestCommittedCassettes -update
//
// Each session asserts what the client decoded, so it checks the same
// values while recording and when the cassette is replayed.
var updateCassettes = flag.Bool("update", false, "record testdata/cassettes again from a zendesktest server")

const cassetteDir = "../testdata/cassettes"

// cassetteSession is the calls recorded in one cassette. seed prepares the
// server and is not recorded; drive is recorded and replayed.
type cassetteSession struct {
	seed  func(t *testing.T, c *zendesk.Client) map[string]string
	drive func(t *testing.T, c *zendesk.Client, ids map[string]string)
}

// Seeded conversations are counted: their ids are the same in every
// recording.
var seededIDs = map[string]string{
	"email": "5c000000-0000-4000-8000-000000000001",
	"slack": "5c000000-0000-4000-8000-000000000002",
	"child": "5c000000-0000-4000-8000-000000000003",
}

var cassetteSessions = map[string]cassetteSession{
	"list-with-events": {seed: seedThree, drive: driveList},
	"show":             {seed: seedThree, drive: driveShow},
	"events":           {seed: seedThree, drive: driveEvents},
	"create":           {drive: driveCreate},
	"reply":            {seed: seedThree, drive: driveReply},
	"update":           {seed: seedThree, drive: driveUpdate},
	"upload":           {drive: driveUpload},
	"errors":           {drive: driveErrors},
}

// seedThree creates an e-mail thread with a reply, a Slack thread that was
// closed, and a child ticket, on recTicket.
func seedThree(t *testing.T, c *zendesk.Client) map[string]string {
	t.Helper()
	ctx, sc := t.Context(), c.SideConversations
	email, _, err := sc.Create(ctx, recTicket, zendesk.CreateRequest{Message: zendesk.Message{
		Subject: "Invoice 1042 was charged twice",
		Body:    "Hello Sam, the customer says invoice 1042 was charged twice. Could you check? Jane",
		To:      []zendesk.Participant{zendesk.NamedEmail("sam.billing@partner-corp.com", "Sam Billing")},
	}})
	require.NoError(t, err)
	_, _, err = sc.Reply(ctx, recTicket, email.SideConversation.ID, zendesk.ReplyRequest{Message: zendesk.Message{
		Body: "Any news? The customer asked again.",
		To:   []zendesk.Participant{zendesk.Email("sam.billing@partner-corp.com")},
	}})
	require.NoError(t, err)
	slack, _, err := sc.Create(ctx, recTicket, zendesk.CreateRequest{Message: zendesk.Message{
		Subject: "Refund approval",
		Body:    "Can someone approve a refund of 99 EUR?",
		To:      []zendesk.Participant{zendesk.SlackChannel("T0FAKE", "C0REFUNDS")},
	}})
	require.NoError(t, err)
	_, _, err = sc.Update(ctx, recTicket, slack.SideConversation.ID, zendesk.UpdateRequest{State: zendesk.StateClosed})
	require.NoError(t, err)
	child, _, err := sc.Create(ctx, recTicket, zendesk.CreateRequest{Message: zendesk.Message{
		Subject: "Please check the payment gateway",
		Body:    "Two charges for one invoice; see the parent ticket.",
		To:      []zendesk.Participant{zendesk.SupportGroup(360001)},
	}})
	require.NoError(t, err)
	ids := map[string]string{"email": email.SideConversation.ID, "slack": slack.SideConversation.ID, "child": child.SideConversation.ID}
	require.Equal(t, seededIDs, ids)
	return ids
}

// pathOf is the path and query of a link, whatever its host: recorded
// links name the host recorded, replayed ones example.zendesk.com.
func pathOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	require.NoError(t, err)
	return u.RequestURI()
}

func eventTypes(evs []zendesk.Event) []zendesk.EventType {
	var out []zendesk.EventType
	for _, ev := range evs {
		out = append(out, ev.Type)
	}
	return out
}

func emailsOf(ps []zendesk.Participant) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Email)
	}
	return out
}

func driveList(t *testing.T, c *zendesk.Client, ids map[string]string) {
	ctx, sc := t.Context(), c.SideConversations
	opts := &zendesk.ListOptions{PerPage: 2, IncludeEvents: true}
	page, resp, err := sc.List(ctx, recTicket, opts)
	require.NoError(t, err)
	assert.Len(t, page, 2)
	assert.Equal(t, 3, resp.Count)
	assert.Equal(t, "/api/v2/tickets/42/side_conversations?include=events&page=2&per_page=2", pathOf(t, resp.NextPage))
	assert.Equal(t, "zendesktest-00000006", resp.RequestID)

	var all []zendesk.SideConversation
	for conv, err := range sc.ListIter(ctx, recTicket, opts) {
		require.NoError(t, err)
		all = append(all, conv)
	}
	require.Len(t, all, 3, "ListIter followed next_page")
	assert.Equal(t, []string{ids["email"], ids["slack"], ids["child"]}, []string{all[0].ID, all[1].ID, all[2].ID})
	assert.Equal(t, "Invoice 1042 was charged twice", all[0].Subject)
	assert.Equal(t, []zendesk.State{zendesk.StateOpen, zendesk.StateClosed, zendesk.StateOpen}, []zendesk.State{all[0].State, all[1].State, all[2].State})
	assert.Equal(t, []zendesk.EventType{zendesk.EventCreate, zendesk.EventReply}, eventTypes(all[0].Events))
	assert.Equal(t, []zendesk.EventType{zendesk.EventCreate, zendesk.EventUpdate}, eventTypes(all[1].Events))
	assert.Equal(t, []zendesk.EventType{zendesk.EventCreate}, eventTypes(all[2].Events))
	assert.Equal(t, []string{"user1@example.com", "user2@example.com"}, emailsOf(all[0].Participants))
	assert.Equal(t, "Person 2", all[0].Participants[1].Name)
	assert.Equal(t, zendesk.ChannelSlack, all[1].Participants[1].Channel())
	child, ok := all[2].ChildTicketID()
	assert.True(t, ok)
	assert.Equal(t, int64(10001), child)
	assert.Equal(t, time.Date(2025, 5, 6, 7, 8, 9, 0, time.UTC), all[0].CreatedAt.UTC())
}

func driveShow(t *testing.T, c *zendesk.Client, ids map[string]string) {
	ctx, sc := t.Context(), c.SideConversations
	shown, resp, err := sc.Show(ctx, recTicket, ids["email"], &zendesk.ShowOptions{IncludeEvents: true})
	require.NoError(t, err)
	assert.Equal(t, "Invoice 1042 was charged twice", shown.Subject)
	assert.Equal(t, "Any news? The customer asked again.", shown.PreviewText)
	assert.Equal(t, []zendesk.EventType{zendesk.EventCreate, zendesk.EventReply}, eventTypes(shown.Events))
	require.NotNil(t, shown.Events[1].Message)
	assert.Equal(t, []string{"user2@example.com"}, emailsOf(shown.Events[1].Message.To))
	assert.Equal(t, "zendesktest-00000006", resp.RequestID)

	plain, _, err := sc.Show(ctx, recTicket, ids["child"], nil)
	require.NoError(t, err)
	assert.Empty(t, plain.Events, "no events without include=events")
	assert.Equal(t, zendesk.ChannelChildTicket, plain.Participants[1].Channel())
	assert.Equal(t, int64(360001), plain.Participants[1].SupportGroupID)
}

func driveEvents(t *testing.T, c *zendesk.Client, ids map[string]string) {
	ctx, sc := t.Context(), c.SideConversations
	first, resp, err := sc.ListEvents(ctx, recTicket, ids["email"], &zendesk.ListOptions{PerPage: 1})
	require.NoError(t, err)
	require.Len(t, first, 1)
	assert.Equal(t, zendesk.EventCreate, first[0].Type)
	assert.Equal(t, 2, resp.Count)
	assert.NotEmpty(t, resp.NextPage)

	var all []zendesk.Event
	for ev, err := range sc.ListEventsIter(ctx, recTicket, ids["slack"], nil) {
		require.NoError(t, err)
		all = append(all, ev)
	}
	require.Len(t, all, 2)
	assert.Equal(t, zendesk.EventUpdate, all[1].Type)
	assert.Equal(t, zendesk.StateClosed, all[1].Updates.State)
	assert.Equal(t, "user1@example.com", all[1].Actor.Email)

	var exported []zendesk.EventType
	for ev, err := range sc.IncrementalEvents(ctx, time.Date(2025, 5, 6, 0, 0, 0, 0, time.UTC)) {
		require.NoError(t, err)
		exported = append(exported, ev.Type)
	}
	assert.Equal(t, []zendesk.EventType{zendesk.EventCreate, zendesk.EventReply, zendesk.EventCreate, zendesk.EventUpdate, zendesk.EventCreate}, exported)
}

func driveCreate(t *testing.T, c *zendesk.Client, _ map[string]string) {
	ctx, sc := t.Context(), c.SideConversations
	email, resp, err := sc.Create(ctx, recTicket, zendesk.CreateRequest{
		Message: zendesk.Message{
			Subject: "Invoice 1042",
			Body:    "Could you check the invoice? Jane (" + recEmail + ")",
			To:      []zendesk.Participant{zendesk.NamedEmail(recPartner, recPartnerName)},
		},
		ExternalIDs:    map[string]string{"crm_case": "CASE-7"},
		IdempotencyKey: "invoice-1042-partner",
	})
	require.NoError(t, err)
	assert.Equal(t, 201, resp.StatusCode)
	assert.Equal(t, zendesk.EventCreate, email.Event.Type)
	assert.Equal(t, "Invoice 1042", email.SideConversation.Subject)
	assert.Equal(t, zendesk.StateOpen, email.SideConversation.State)
	assert.Equal(t, "CASE-7", email.SideConversation.ExternalIDs["crm_case"])
	assert.Equal(t, []string{"user1@example.com", "user2@example.com"}, emailsOf(email.SideConversation.Participants))
	assert.Equal(t, "Could you check the invoice? Jane (user1@example.com)", email.Event.Message.Body)

	slack, _, err := sc.Create(ctx, recTicket, zendesk.CreateRequest{Message: zendesk.Message{
		Body: "Can someone approve a refund?",
		To:   []zendesk.Participant{zendesk.SlackChannel("T0FAKE", "C0REFUNDS")},
	}})
	require.NoError(t, err)
	assert.Equal(t, "C0REFUNDS", slack.SideConversation.Participants[1].SlackChannelID)

	child, _, err := sc.Create(ctx, recTicket, zendesk.CreateRequest{Message: zendesk.Message{
		Subject: "Gateway",
		Body:    "Please check the payment gateway.",
		To:      []zendesk.Participant{zendesk.SupportAgent(360001, 501)},
	}})
	require.NoError(t, err)
	id, ok := child.SideConversation.ChildTicketID()
	assert.True(t, ok)
	assert.Equal(t, int64(10001), id)
	assert.Equal(t, int64(501), child.SideConversation.Participants[1].SupportAgentID)
}

func driveReply(t *testing.T, c *zendesk.Client, ids map[string]string) {
	res, resp, err := c.SideConversations.Reply(t.Context(), recTicket, ids["email"], zendesk.ReplyRequest{Message: zendesk.Message{
		Body: "Thanks, the refund went out today. Write to " + recEmail + " with questions.",
		To:   []zendesk.Participant{zendesk.Email("sam.billing@partner-corp.com")},
	}})
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, ids["email"], res.SideConversation.ID)
	assert.Empty(t, res.Event.ID, "the reference's reply answer holds the conversation alone")

	// The reply itself is the conversation's newest event.
	events, _, err := c.SideConversations.ListEvents(t.Context(), recTicket, ids["email"], nil)
	require.NoError(t, err)
	last := events[len(events)-1]
	assert.Equal(t, zendesk.EventReply, last.Type)
	assert.Equal(t, "Thanks, the refund went out today. Write to user1@example.com with questions.", last.Message.Body)
	assert.Equal(t, []string{"user2@example.com"}, emailsOf(last.Message.To))
	assert.True(t, last.CreatedAt.Equal(res.SideConversation.MessageAddedAt), "%s and %s", last.CreatedAt, res.SideConversation.MessageAddedAt)
}

func driveUpdate(t *testing.T, c *zendesk.Client, ids map[string]string) {
	ctx, sc := t.Context(), c.SideConversations
	closed, _, err := sc.Update(ctx, recTicket, ids["email"], zendesk.UpdateRequest{State: zendesk.StateClosed, Subject: "Invoice 1042 (refunded)"})
	require.NoError(t, err)
	assert.Equal(t, zendesk.StateClosed, closed.State)
	assert.Equal(t, "Invoice 1042 (refunded)", closed.Subject)
	assert.True(t, closed.StateUpdatedAt.After(closed.CreatedAt))

	reopened, _, err := sc.Update(ctx, recTicket, ids["slack"], zendesk.UpdateRequest{State: zendesk.StateOpen})
	require.NoError(t, err)
	assert.Equal(t, zendesk.StateOpen, reopened.State)
	assert.Equal(t, "Refund approval", reopened.Subject)
}

func driveUpload(t *testing.T, c *zendesk.Client, _ map[string]string) {
	ctx, sc := t.Context(), c.SideConversations
	up, resp, err := sc.UploadAttachment(ctx, "invoice-1042.txt", strings.NewReader("Invoice 1042 for "+recPartner+": 99.00 EUR\n"))
	require.NoError(t, err)
	assert.Equal(t, 201, resp.StatusCode)
	assert.Equal(t, "s3-f0000000-0000-4000-8000-000000000001", up.ID)
	assert.Equal(t, "invoice-1042.txt", up.Name)
	assert.Equal(t, "text/plain; charset=utf-8", up.ContentType)
	assert.Equal(t, int64(len("Invoice 1042 for "+recPartner+": 99.00 EUR\n")), up.Size, "the size Zendesk counted")

	res, _, err := sc.Create(ctx, recTicket, zendesk.CreateRequest{Message: zendesk.Message{
		Subject:       "Invoice 1042",
		Body:          "The invoice is attached.",
		To:            []zendesk.Participant{zendesk.Email(recPartner)},
		AttachmentIDs: []string{up.ID},
	}})
	require.NoError(t, err)
	require.Len(t, res.Event.Message.Attachments, 1)
	att := res.Event.Message.Attachments[0]
	assert.Equal(t, up.ID, att.ID)
	assert.Equal(t, "invoice-1042.txt", att.FileName)
	assert.True(t, strings.HasSuffix(pathOf(t, att.ContentURL), "/attachments/"+up.ID+"/download/invoice-1042.txt"), att.ContentURL)
}

func driveErrors(t *testing.T, c *zendesk.Client, _ map[string]string) {
	ctx, sc := t.Context(), c.SideConversations
	var apiErr *zendesk.APIError

	_, _, err := sc.Show(ctx, recTicket, "5c000000-0000-4000-8000-00000000dead", nil)
	require.ErrorIs(t, err, zendesk.ErrNotFound)
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 404, apiErr.StatusCode)
	assert.Equal(t, "RecordNotFound", apiErr.Code)
	assert.Equal(t, "Not found", apiErr.Description)
	assert.NotEmpty(t, apiErr.RequestID)

	_, _, err = sc.List(ctx, 999, nil)
	require.ErrorIs(t, err, zendesk.ErrNotFound)

	_, _, err = sc.Create(ctx, recTicket, zendesk.CreateRequest{Message: zendesk.Message{
		Body:          "See the attachment.",
		To:            []zendesk.Participant{zendesk.Email(recPartner)},
		AttachmentIDs: []string{"s3-never-uploaded"},
	}})
	require.ErrorIs(t, err, zendesk.ErrUnprocessable)
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 422, apiErr.StatusCode)
	assert.Equal(t, "RecordInvalid", apiErr.Code)
	assert.Contains(t, string(apiErr.Details), "attachment_ids")
}

// recordCassette records one session into dir/name.yaml from a new
// zendesktest server.
func recordCassette(t *testing.T, dir, name string, s cassetteSession) {
	t.Helper()
	srv := recServer(t)
	ids := map[string]string{}
	if s.seed != nil {
		ids = s.seed(t, srv.Client(zendesk.WithoutRetries()))
	}
	rec, c := recordWith(t, srv, filepath.Join(dir, name), zendesktest.VCR())
	s.drive(t, c, ids)
	require.NoError(t, rec.Stop())
}

func cassetteNames(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(cassetteDir, "*.yaml"))
	require.NoError(t, err)
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".yaml"))
	}
	return names
}

// TestCommittedCassettes replays every cassette in testdata/cassettes
// through the real client, for the subdomain "example", without network.
func TestCommittedCassettes(t *testing.T) {
	t.Parallel()
	if *updateCassettes {
		for name, s := range cassetteSessions {
			recordCassette(t, cassetteDir, name, s)
		}
	}
	names := cassetteNames(t)
	require.Equal(t, slices.Sorted(maps.Keys(cassetteSessions)), names,
		"every cassette has a session in cassetteSessions that replays it, and every session a cassette")
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := cassetteSessions[name]
			ids := map[string]string{}
			if s.seed != nil {
				ids = seededIDs
			}
			s.drive(t, replayClient(t, filepath.Join(cassetteDir, name)), ids)
		})
	}
}

// TestCassetteSessionsRecordAlike records each session twice, from two
// servers on different ports: the cassettes are the same byte for byte,
// so a cassette records nothing of where it was recorded, and nothing
// random.
func TestCassetteSessionsRecordAlike(t *testing.T) {
	t.Parallel()
	for name, s := range cassetteSessions {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var files [2]string
			for i := range files {
				dir := t.TempDir()
				recordCassette(t, dir, name, s)
				data, err := os.ReadFile(filepath.Join(dir, name+".yaml"))
				require.NoError(t, err)
				files[i] = string(data)
			}
			assert.Equal(t, files[0], files[1])
		})
	}
}

var (
	anyEmail = regexp.MustCompile(`(?i)[a-z0-9._%+\-]+(?:@|%40)[a-z0-9.\-]+\.[a-z]{2,}`)
	anyURL   = regexp.MustCompile(`(?i)\b[a-z][a-z0-9+.\-]*://([^/\s"'?#\\]+)`)
	safeMail = regexp.MustCompile(`(?i)(?:@|%40)(?:[a-z0-9\-]+\.)*example\.(?:com|net|org)$`)
)

// TestCommittedCassettesHoldNoSecrets reads every committed cassette as
// text and as interactions: no credentials, no header but the few Scrub
// keeps, no address outside the domains reserved for examples, no host but
// example.zendesk.com, no name of a person but "Person N", and no value of
// a secret-looking key but "[REDACTED]".
func TestCommittedCassettesHoldNoSecrets(t *testing.T) {
	t.Parallel()
	names := cassetteNames(t)
	require.NotEmpty(t, names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(cassetteDir, name)
			data, err := os.ReadFile(path + ".yaml")
			require.NoError(t, err)
			text := strings.ToLower(string(data))
			for _, leak := range []string{"authorization", "cookie", "bearer ", "basic ", "/token:", "127.0.0.1", "localhost",
				strings.ToLower(recToken), strings.ToLower(recEmail), strings.ToLower(zendesktest.AgentName), zendesktest.DefaultAPIToken, "acme", "partner-corp"} {
				assert.False(t, strings.Contains(text, leak), "the cassette holds %q", leak)
			}
			for _, addr := range anyEmail.FindAllString(string(data), -1) {
				assert.Regexp(t, safeMail, addr, "an address outside the example domains")
			}
			for _, m := range anyURL.FindAllStringSubmatch(string(data), -1) {
				assert.Equal(t, zendesktest.ScrubbedHost, strings.ToLower(m[1]), "a URL to another host: %s", m[0])
			}

			cas, err := cassette.Load(path)
			require.NoError(t, err)
			require.NotEmpty(t, cas.Interactions)
			for _, it := range cas.Interactions {
				assert.Equal(t, zendesktest.ScrubbedHost, it.Request.Host)
				for k := range it.Request.Headers {
					assert.Equal(t, "Content-Type", k)
				}
				for k := range it.Response.Headers {
					assert.Regexp(t, `^(Content-Type|X-Zendesk-Request-Id|Retry-After|X-Rate-Limit.*|Ratelimit-.*)$`, k)
				}
				for _, body := range []string{it.Request.Body, it.Response.Body} {
					var v any
					if json.Unmarshal([]byte(body), &v) == nil {
						checkNoSecretValues(t, v)
					}
				}
			}
		})
	}
}

var secretKey = regexp.MustCompile(`(?i)^(token|access_token|refresh_token|password|api_token|secret|client_secret|api_key|apikey|authorization|.*_token|.*_secret|.*_password)$`)

// checkNoSecretValues walks a decoded JSON body.
func checkNoSecretValues(t *testing.T, v any) {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		_, hasEmail := v["email"]
		_, hasUser := v["user_id"]
		for k, val := range v {
			switch {
			case secretKey.MatchString(k) && val != nil:
				assert.Equal(t, "[REDACTED]", val, "the value of %q", k)
			case k == "name" && (hasEmail || hasUser) && val != nil:
				assert.Regexp(t, `^Person \d+$`, val, "a person's name")
			default:
				checkNoSecretValues(t, val)
			}
		}
	case []any:
		for _, e := range v {
			checkNoSecretValues(t, e)
		}
	}
}
