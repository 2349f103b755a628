package zendesktest_test

// Tests for the corners of the fake that the scenario tests do not reach:
// rarely taken validation paths, routing edge cases, fault defaults and Seed
// errors.

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	zendesk "github.com/sideconv/zendesk"
	"github.com/sideconv/zendesk/zendesktest"
)

const covList = "/api/v2/tickets/1/side_conversations"

// covUpload uploads data as the "file" part of a multipart form and returns
// the answer.
func covUpload(t *testing.T, srv *zendesktest.Server, filename, contentType string, data []byte) answer {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="`+filename+`"`)
	h.Set("Content-Type", contentType)
	w, err := mw.CreatePart(h)
	require.NoError(t, err)
	_, err = w.Write(data)
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	return call(t, srv, http.MethodPost, "/api/v2/tickets/side_conversations/attachments", buf.Bytes(),
		http.Header{"Content-Type": {mw.FormDataContentType()}})
}

// covCreate creates an e-mail side conversation on ticket 1 over raw HTTP,
// optionally with attachments, and returns the decoded answer.
func covCreate(t *testing.T, srv *zendesktest.Server, attachmentIDs ...string) map[string]any {
	t.Helper()
	msg := map[string]any{"subject": "s", "body": "b", "to": []any{map[string]any{"email": "x@example.com"}}}
	if len(attachmentIDs) > 0 {
		msg["attachment_ids"] = attachmentIDs
	}
	body, err := json.Marshal(map[string]any{"message": msg})
	require.NoError(t, err)
	a := post(t, srv, covList, string(body))
	require.Equal(t, http.StatusCreated, a.Status, "%s", a.Body)
	return a.JSON(t)
}

// covDetails returns every description of every key of a RecordInvalid
// answer.
func covDetails(t *testing.T, a answer) map[string][]string {
	t.Helper()
	m := assertZendeskError(t, a, http.StatusUnprocessableEntity, "RecordInvalid")
	details, ok := m["details"].(map[string]any)
	require.True(t, ok, "details: %s", a.Body)
	out := map[string][]string{}
	for k, v := range details {
		list, ok := v.([]any)
		require.True(t, ok, "details.%s: %v", k, v)
		for _, item := range list {
			d, ok := item.(map[string]any)
			require.True(t, ok)
			desc, _ := d["description"].(string)
			out[k] = append(out[k], desc)
		}
	}
	return out
}

func TestFaultStatusDefaultCodes(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	cases := []struct {
		status      int
		code        string
		description string
	}{
		{http.StatusNotFound, "RecordNotFound", "Not Found"},
		{http.StatusUnprocessableEntity, "RecordInvalid", "Unprocessable Entity"},
		{http.StatusUnauthorized, "Couldn't authenticate you", "Unauthorized"},
		{http.StatusServiceUnavailable, "ServiceUnavailable", "Service Unavailable"},
		{http.StatusNonAuthoritativeInfo, "NonAuthoritativeInformation", "Non-Authoritative Information"},
		{599, "Error", ""}, // no status text
	}
	for _, tc := range cases {
		srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultStatus, Status: tc.status})
		a := get(t, srv, covList)
		m := assertZendeskError(t, a, tc.status, tc.code)
		if tc.description == "" {
			assert.NotContains(t, m, "description", "%d", tc.status)
		} else {
			assert.Equal(t, tc.description, m["description"], "%d", tc.status)
		}
	}

	// A custom body that is JSON is labelled JSON and sent as it is.
	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultStatus, Status: http.StatusForbidden,
		Body: `{"error":"Forbidden","description":"You do not have access"}`})
	a := get(t, srv, covList)
	assert.Equal(t, http.StatusForbidden, a.Status)
	assert.Equal(t, "application/json; charset=utf-8", a.Header.Get("Content-Type"))
	assert.JSONEq(t, `{"error":"Forbidden","description":"You do not have access"}`, string(a.Body))
	assert.Empty(t, srv.SideConversations(1))
}

// TestFaultUnknownKind: a kind the server does not know lets the request
// through unchanged, and is consumed like any other fault.
func TestFaultUnknownKind(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultKind(99), Method: http.MethodPost})
	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultStatus, Method: http.MethodPost})

	created := covCreate(t, srv)
	assert.Contains(t, created, "side_conversation", "answered as usual")
	assert.Len(t, srv.SentMessages(), 1, "processed")

	// The unknown fault was used up: the next POST takes the one queued
	// after it.
	a := post(t, srv, covList, `{"message":{"body":"b","to":[{"email":"x@example.com"}]}}`)
	assertZendeskError(t, a, http.StatusInternalServerError, "InternalServerError")
	assert.Len(t, srv.SentMessages(), 1)
	assert.Len(t, srv.Requests(), 2)
}

// TestFaultWrongTypesOtherBodies covers FaultWrongTypes on the answers that
// are not side conversation envelopes: an upload, an attachment download
// that is JSON (its own keys get values of another type), and one that is
// not JSON at all.
func TestFaultWrongTypesOtherBodies(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)

	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultWrongTypes, Method: http.MethodPost})
	a := covUpload(t, srv, "data.json", "application/json", []byte(`{"foo":"bar","n":1,"nested":{"a":[1]},"list":[1,2],"flag":true}`))
	require.Equal(t, http.StatusCreated, a.Status)
	assert.JSONEq(t, `{"content_type":12345,"height":"many","id":12345,"name":12345,"size":"many","width":"many"}`, string(a.Body))
	uploads := srv.Uploads()
	require.Len(t, uploads, 1, "processed")
	jsonFile := uploads[0]

	a = covUpload(t, srv, "blob.bin", "application/octet-stream", []byte{0, 1, 2, 3})
	require.Equal(t, http.StatusCreated, a.Status)
	blobID, _ := a.JSON(t)["id"].(string)
	require.NotEmpty(t, blobID)

	created := covCreate(t, srv, jsonFile.ID, blobID)
	ev, _ := created["event"].(map[string]any)
	msg, _ := ev["message"].(map[string]any)
	atts, _ := msg["attachments"].([]any)
	require.Len(t, atts, 2)
	var paths []string
	for _, att := range atts {
		u, _ := att.(map[string]any)["content_url"].(string)
		paths = append(paths, strings.TrimPrefix(u, srv.URL()))
	}

	a = get(t, srv, paths[0])
	require.Equal(t, http.StatusOK, a.Status)
	assert.JSONEq(t, `{"foo":"bar","n":1,"nested":{"a":[1]},"list":[1,2],"flag":true}`, string(a.Body), "served as uploaded")

	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultWrongTypes, Times: 2})
	a = get(t, srv, paths[0])
	require.Equal(t, http.StatusOK, a.Status)
	assert.JSONEq(t, `{"foo":12345,"n":"x","nested":"x","list":"x","flag":"x"}`, string(a.Body))
	assert.Equal(t, "application/json; charset=utf-8", a.Header.Get("Content-Type"))

	a = get(t, srv, paths[1])
	require.Equal(t, http.StatusOK, a.Status)
	assert.JSONEq(t, `{"side_conversation":"x"}`, string(a.Body), "a body that is not a JSON object")
	assert.Equal(t, "application/json; charset=utf-8", a.Header.Get("Content-Type"))
}

func TestRoutesThatDoNotExist(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	sc := covCreate(t, srv)["side_conversation"].(map[string]any)
	id := sc["id"].(string)
	cases := []struct{ method, path string }{
		{http.MethodGet, "/api/v2/tickets//side_conversations"},                                        // an empty segment
		{http.MethodGet, "/api/v2/tickets/1/comments"},                                                 // another resource of a ticket
		{http.MethodGet, "/api/v2/tickets/1/side_conversations/" + id + "/events/e/more"},              // too deep
		{http.MethodGet, "/api/v2/tickets/1/side_conversations/" + id + "/a/b/c/d"},                    // eight segments, no download
		{http.MethodPost, "/api/v2/tickets/1/side_conversations/" + id + "/attachments/a/download/f"},  // download is GET only
		{http.MethodGet, "/api/v2/users/1/side_conversations/" + id + "/attachments/a/download/f"},     // not under tickets
		{http.MethodGet, "/api/v2/tickets/abc/side_conversations/" + id + "/attachments/a/download/f"}, // not a ticket id
		{http.MethodGet, "/api/v2/tickets/999/side_conversations/" + id},                               // an unknown ticket
		{http.MethodGet, "/api/v2/tickets/1/side_conversations/" + id + "x"},                           // an unknown conversation
	}
	for _, tc := range cases {
		a := call(t, srv, tc.method, tc.path, nil, nil)
		m := assertZendeskError(t, a, http.StatusNotFound, "RecordNotFound")
		assert.Equal(t, "Not found", m["description"], "%s %s", tc.method, tc.path)
	}
	assert.Len(t, srv.SideConversations(1), 1)
}

func TestCredentialEdgeCases(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	noColon := "Basic " + base64Std("agent@example.com/token")
	a := call(t, srv, http.MethodGet, covList, nil, http.Header{"Authorization": {noColon}})
	assert.Equal(t, http.StatusUnauthorized, a.Status, "a Basic pair without a colon")
	assert.JSONEq(t, `{"error":"Couldn't authenticate you"}`, string(a.Body))

	// A server whose credentials are empty accepts no Basic pair at all,
	// not even the matching empty one.
	empty := zendesktest.Start(t, zendesktest.WithCredentials("", ""))
	a = call(t, empty, http.MethodGet, covList, nil, http.Header{"Authorization": {"Basic " + base64Std("/token:")}})
	assert.Equal(t, http.StatusUnauthorized, a.Status)
	reqs := empty.Requests()
	require.Len(t, reqs, 1)
	assert.False(t, reqs[0].Authorized)
}

func base64Std(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// TestUnreadableRequestBody sends a chunked body that is not valid chunked
// encoding: the server cannot read it and answers 400 InvalidRequest.
func TestUnreadableRequestBody(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	u, err := url.Parse(srv.URL())
	require.NoError(t, err)
	var d net.Dialer
	conn, err := d.DialContext(ctx(t), "tcp", u.Host)
	require.NoError(t, err)
	defer func() { _ = conn.Close() }()
	require.NoError(t, conn.SetDeadline(time.Now().Add(safetyNet))) // only turns a hang into a failure
	_, err = io.WriteString(conn, "POST "+covList+" HTTP/1.1\r\nHost: "+u.Host+"\r\nAuthorization: "+basicAuth()+
		"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz-not-a-chunk-size\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	m := assertZendeskError(t, answer{Status: resp.StatusCode, Header: resp.Header, Body: b}, http.StatusBadRequest, "InvalidRequest")
	assert.Equal(t, "The request body could not be read", m["description"])
	assert.Len(t, srv.Requests(), 1, "recorded")
	assert.Empty(t, srv.SideConversations(1), "not processed")
}

func TestCreateReplyLimitTurnedOff(t *testing.T) {
	t.Parallel()
	for _, off := range []zendesktest.Option{
		zendesktest.WithCreateReplyLimit(0, time.Hour),
		zendesktest.WithCreateReplyLimit(-1, time.Hour),
		zendesktest.WithCreateReplyLimit(5, 0),
	} {
		// The later option wins over an earlier limit of one.
		srv := zendesktest.Start(t, zendesktest.WithCreateReplyLimit(1, time.Hour), off)
		for range 3 {
			a := post(t, srv, covList, `{"message":{"body":"b","to":[{"email":"x@example.com"}]}}`)
			require.Equal(t, http.StatusCreated, a.Status, "%s", a.Body)
			assert.Empty(t, a.Header.Get("ratelimit-limit"), "no budget, no rate-limit headers")
		}
		assert.Len(t, srv.SentMessages(), 3)
	}
}

// TestDecodeErrors covers how request bodies of the wrong shape are
// refused.
func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	conv := covList + "/" + covCreate(t, srv)["side_conversation"].(map[string]any)["id"].(string)

	// An empty body counts as {}.
	a := post(t, srv, covList, "")
	m := assertZendeskError(t, a, http.StatusBadRequest, "InvalidParameter")
	assert.Equal(t, "Invalid parameter: message is required", m["description"])

	// Values of the wrong type are 422s that name the field and both types.
	assert.Equal(t, map[string][]string{"message": {"message must be an object, not number"}},
		covDetails(t, post(t, srv, covList, `{"message":5}`)))
	assert.Equal(t, map[string][]string{"events": {"events must be an array, not number"}},
		covDetails(t, post(t, srv, covList+"/import", `{"events":5}`)))
	assert.Equal(t, map[string][]string{"subject": {"subject must be a string"}},
		covDetails(t, call(t, srv, http.MethodPut, conv, []byte(`{"side_conversation":{"subject":5}}`), nil)))

	// Malformed JSON on every endpoint that reads a body.
	for _, path := range []string{conv + "/reply", covList + "/import", conv + "/events/import"} {
		a := post(t, srv, path, `{"events":[`)
		assertZendeskError(t, a, http.StatusBadRequest, "InvalidJSON")
	}

	// An imported event whose created_at is not a string.
	d := covDetails(t, post(t, srv, covList+"/import", `{"events":[{"created_at":5,"message":{"body":"b"}}]}`))
	assert.Equal(t, []string{"events[0].created_at must be a string"}, d["events"])
	assert.Len(t, srv.SideConversations(1), 1, "nothing was stored")
	assert.Len(t, srv.Events(1, strings.TrimPrefix(conv, covList+"/")), 1)
}

func TestParticipantValidation(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	create := func(message string) answer {
		return post(t, srv, covList, `{"message":{"body":"b",`+message+`}}`)
	}
	cases := map[string]map[string][]string{
		`"to":[5]`:                       {"to": {"to[0] must be a participant object"}},
		`"to":[{"user_id":"abc"}]`:       {"to": {"to[0] user_id must be an integer"}},
		`"to":[{"user_id":true}]`:        {"to": {"to[0] user_id must be an integer"}},
		`"to":[{"user_id":-5}]`:          {"to": {"to[0] user_id must be positive"}},
		`"to":[{"support_group_id":-1}]`: {"to": {"to[0] support_group_id and support_agent_id must be positive"}},
		`"to":[{"support_group_id":1,"support_agent_id":true}]`:              {"to": {"to[0] support_agent_id must be a string or a number"}},
		`"to":[{"support_group_id":{}}]`:                                     {"to": {"to[0] support_group_id must be a string or a number"}},
		`"to":[{"email":"a@example.com"}],"from":{"email":"not-an-address"}`: {"from": {`from email "not-an-address" is invalid`}},
		`"to":[{"email":"a@example.com"}],"from":"agent"`:                    {"from": {"from must be a participant object"}},
	}
	for message, want := range cases {
		assert.Equal(t, want, covDetails(t, create(message)), message)
	}

	// Every problem with external_ids is reported.
	d := covDetails(t, create(`"to":[{"email":"a@example.com"}],"external_ids":{"  ":"blank","n":null,"o":{},"a":[]}`))
	assert.ElementsMatch(t, []string{
		`message the value of "n" must be a string, not null`,
		`message the value of "o" must be a string, not an object`,
		`message the value of "a" must be a string, not an array`,
	}, d["external_ids"])
	assert.Empty(t, srv.SentMessages())

	// An empty string is no user id; the agent, named by id or by e-mail
	// address in any case, becomes the agent's full participant.
	a := create(`"to":[{"user_id":"  ","email":"partner@example.com"}]`)
	require.Equal(t, http.StatusCreated, a.Status, "%s", a.Body)
	to := a.JSON(t)["event"].(map[string]any)["message"].(map[string]any)["to"].([]any)
	assert.Equal(t, []any{map[string]any{"user_id": nil, "name": nil, "email": "partner@example.com"}}, to)

	wantAgent := map[string]any{"user_id": float64(zendesktest.AgentUserID), "name": zendesktest.AgentName, "email": zendesktest.DefaultEmail}
	for _, ref := range []string{`{"user_id":1}`, `{"user_id":"1"}`, `{"email":"AGENT@example.com"}`} {
		a := create(`"to":[` + ref + `]`)
		require.Equal(t, http.StatusCreated, a.Status, "%s", a.Body)
		to := a.JSON(t)["event"].(map[string]any)["message"].(map[string]any)["to"].([]any)
		assert.Equal(t, []any{wantAgent}, to, ref)
	}
	assert.Len(t, srv.SentMessages(), 4)
}

func TestListIncludeEventsWithoutConversations(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	a := get(t, srv, covList+"?include=events")
	require.Equal(t, http.StatusOK, a.Status)
	assert.JSONEq(t, `{"side_conversations":[],"events":[],"next_page":null,"previous_page":null,"count":0}`, string(a.Body),
		"events is an empty array, not null")
}

// TestImportWithoutTime imports an event at the zero time: the times it
// sets are unknown and answered null.
func TestImportWithoutTime(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	a := post(t, srv, covList+"/import", `{"events":[{"created_at":"0001-01-01T00:00:00Z","message":{"body":"old"}}]}`)
	require.Equal(t, http.StatusCreated, a.Status, "%s", a.Body)
	m := a.JSON(t)
	sc := m["side_conversation"].(map[string]any)
	assert.Nil(t, sc["created_at"])
	assert.Nil(t, sc["message_added_at"])
	assert.Nil(t, sc["state_updated_at"])
	assert.NotNil(t, sc["updated_at"], "updated now")
	assert.Nil(t, m["event"].(map[string]any)["created_at"])
	convs := srv.SideConversations(1)
	require.Len(t, convs, 1)
	assert.True(t, convs[0].CreatedAt.IsZero())
}

func TestUploadMalformedMultipart(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	const ct = "multipart/form-data; boundary=b"
	bodies := map[string]string{
		"a part header without a colon": "--b\r\nnot a header\r\n\r\nx\r\n--b--\r\n",
		"a file part cut short":         "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nabc",
	}
	for name, body := range bodies {
		a := call(t, srv, http.MethodPost, "/api/v2/tickets/side_conversations/attachments", []byte(body), http.Header{"Content-Type": {ct}})
		m := assertZendeskError(t, a, http.StatusBadRequest, "InvalidParameter")
		assert.Equal(t, "Invalid parameter: the multipart/form-data body is malformed", m["description"], name)
	}
	assert.Empty(t, srv.Uploads())
}

func TestDownloadRefusals(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	a := covUpload(t, srv, "a.txt", "text/plain", []byte("hello"))
	require.Equal(t, http.StatusCreated, a.Status)
	upID := a.JSON(t)["id"].(string)

	// A conversation without the attachment, with an update event.
	id := covCreate(t, srv)["side_conversation"].(map[string]any)["id"].(string)
	a = call(t, srv, http.MethodPut, covList+"/"+id, []byte(`{"side_conversation":{"state":"closed"}}`), nil)
	require.Equal(t, http.StatusOK, a.Status)
	require.Len(t, srv.Events(1, id), 2)

	for _, path := range []string{
		covList + "/" + id + "/attachments/" + upID + "/download/a.txt",                           // not attached to it
		covList + "/unknown/attachments/" + upID + "/download/a.txt",                              // no such conversation
		"/api/v2/tickets/7/side_conversations/" + id + "/attachments/" + upID + "/download/a.txt", // no such ticket
	} {
		assertZendeskError(t, get(t, srv, path), http.StatusNotFound, "RecordNotFound")
	}

	// Attached to another conversation, it downloads there.
	created := covCreate(t, srv, upID)
	u := created["event"].(map[string]any)["message"].(map[string]any)["attachments"].([]any)[0].(map[string]any)["content_url"].(string)
	a = get(t, srv, strings.TrimPrefix(u, srv.URL()))
	require.Equal(t, http.StatusOK, a.Status)
	assert.Equal(t, "hello", string(a.Body))
}

func TestSeedNamedChannelParticipants(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	require.NoError(t, srv.Seed(1, []byte(`{"id":"named","subject":"Channels","participants":[
		{"slack_workspace_id":"W1","slack_channel_id":"C1","name":"#support"},
		{"msteams_channel_id":"T1","name":"Support team"},
		{"slack_workspace_id":"W2","slack_channel_id":"C2"},
		{"msteams_channel_id":"T2"}]}`)))
	a := get(t, srv, covList+"/named")
	require.Equal(t, http.StatusOK, a.Status)
	ps := a.JSON(t)["side_conversation"].(map[string]any)["participants"]
	assert.Equal(t, []any{
		map[string]any{"slack_workspace_id": "W1", "slack_channel_id": "C1", "name": "#support"},
		map[string]any{"msteams_channel_id": "T1", "name": "Support team"},
		map[string]any{"slack_workspace_id": "W2", "slack_channel_id": "C2"},
		map[string]any{"msteams_channel_id": "T2"},
	}, ps)
}

func TestSeedDocumentErrors(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	cases := map[string]string{
		`{"side_conversations":5}`:                             "side_conversations: ",
		`{"id":5,"name":"x.png"}`:                              "upload: ",
		`{"id":"","name":"x.png","size":3}`:                    "upload: the id is empty",
		`{"id":5,"subject":"s"}`:                               "side conversation: ",
		`{"events":5}`:                                         "events: ",
		`{"side_conversation":{"id":"c"},"event":5}`:           "event: ",
		`{"side_conversation":{"id":"c"},"events":[{"id":5}]}`: "events: ",
	}
	for doc, want := range cases {
		err := srv.Seed(3, []byte(doc))
		require.Error(t, err, doc)
		assert.Contains(t, err.Error(), "zendesktest: Seed: "+want, doc)
	}
	assert.Empty(t, srv.Uploads())
	assert.Empty(t, srv.SideConversations(3))
	assert.Equal(t, http.StatusNotFound, get(t, srv, "/api/v2/tickets/3/side_conversations").Status)
}

// TestSeedEventsWithoutConversationID: the events of a document with one
// side conversation belong to it even when they do not say so.
func TestSeedEventsWithoutConversationID(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	require.NoError(t, srv.Seed(4, []byte(`{"side_conversation":{"id":"solo","subject":"Solo","created_at":"2024-01-01T00:00:00Z"},
		"events":[{"id":"orphan-1","type":"reply","created_at":"2024-01-02T00:00:00Z","message":{"body":"hi"}}]}`)))
	events := srv.Events(4, "solo")
	require.Len(t, events, 1)
	assert.Equal(t, "orphan-1", events[0].ID)
	assert.Equal(t, "solo", events[0].SideConversationID)
	assert.Equal(t, int64(4), events[0].TicketID)
	assert.Equal(t, zendesk.EventReply, events[0].Type)
}

// TestSeedConversationFillsEvents: events without id, time or type get
// them, and an event seeded again keeps its type unless given one.
func TestSeedConversationFillsEvents(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t, zendesktest.WithClock(fixedClock(t0)))
	created := t0.Add(-time.Hour)
	srv.SeedConversation(1, zendesk.SideConversation{ID: "fill", CreatedAt: created},
		zendesk.Event{Message: &zendesk.Message{Body: "first"}},
		zendesk.Event{Updates: zendesk.Updates{State: zendesk.StateClosed}},
		zendesk.Event{Message: &zendesk.Message{Body: "second"}},
	)
	events := srv.Events(1, "fill")
	require.Len(t, events, 3)
	assert.Equal(t, []string{"e0000000-0000-4000-8000-000000000001", "e0000000-0000-4000-8000-000000000002", "e0000000-0000-4000-8000-000000000003"},
		[]string{events[0].ID, events[1].ID, events[2].ID})
	assert.Equal(t, []zendesk.EventType{zendesk.EventCreate, zendesk.EventUpdate, zendesk.EventReply},
		[]zendesk.EventType{events[0].Type, events[1].Type, events[2].Type})
	for i, ev := range events {
		sameTime(t, t0.Add(time.Duration(i)*time.Second), ev.CreatedAt, "created_at from the clock")
	}

	// Seeded again without a type, the first event stays a create event
	// (a new message event would be a reply).
	srv.SeedConversation(1, zendesk.SideConversation{ID: "fill", CreatedAt: created},
		zendesk.Event{ID: events[0].ID, CreatedAt: t0, Message: &zendesk.Message{Body: "edited"}})
	events = srv.Events(1, "fill")
	require.Len(t, events, 3)
	assert.Equal(t, zendesk.EventCreate, events[0].Type)
	assert.Equal(t, "edited", events[0].Message.Body)
}

// TestUploadIDsSkipSeededUploads shows that an upload can be given the id
// of a seeded upload, unlike conversations and events, whose generated ids
// skip seeded ones.
func TestUploadIDsSkipSeededUploads(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	const seededID = "s3-f0000000-0000-4000-8000-000000000001"
	require.NoError(t, srv.Seed(1, []byte(`{"id":"`+seededID+`","name":"seeded.txt","size":3}`)))
	a := covUpload(t, srv, "real.txt", "text/plain", []byte("hello"))
	require.Equal(t, http.StatusCreated, a.Status)
	assert.NotEqual(t, seededID, a.JSON(t)["id"])
	uploads := srv.Uploads()
	require.Len(t, uploads, 2)
	assert.NotEqual(t, uploads[0].ID, uploads[1].ID)
}

// TestSeedMovesConversationWithItsEvents: a Seed that stores a known
// conversation on another ticket must either fail or move its events too.
func TestSeedMovesConversationWithItsEvents(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t, zendesktest.WithTickets(1, 2))
	srv.SeedConversation(1, zendesk.SideConversation{ID: "c1"}, zendesk.Event{ID: "e1", Message: &zendesk.Message{Body: "x"}})
	err := srv.Seed(2, []byte(`{"side_conversation":{"id":"c1","subject":"moved"}}`))
	if err != nil {
		assert.Len(t, srv.SideConversations(1), 1, "a failed Seed changes nothing")
		return
	}
	events := srv.Events(2, "c1")
	require.Len(t, events, 1)
	assert.Equal(t, int64(2), events[0].TicketID)
	assert.Contains(t, events[0].URL, "/tickets/2/")
}

// TestSeedEventIDIsUnique: an event id stored in one conversation and
// seeded into another is replaced, not duplicated.
func TestSeedEventIDIsUnique(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	srv.SeedConversation(1, zendesk.SideConversation{ID: "a"}, zendesk.Event{ID: "e1", Message: &zendesk.Message{Body: "x"}})
	srv.SeedConversation(1, zendesk.SideConversation{ID: "b"}, zendesk.Event{ID: "e1", Message: &zendesk.Message{Body: "y"}})
	m := get(t, srv, "/api/v2/tickets/side_conversations/events?start_time=0").JSON(t)
	assert.Equal(t, float64(1), m["count"])
}

// TestFaultDelayClientGoesAway: a client that goes away during a
// FaultDelay hold ends it at once, while the server stays up, and the
// connection is cut without an answer. The client half-closes its
// connection, which net/http reports to the handler as a canceled context.
func TestFaultDelayClientGoesAway(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	hold := make(chan struct{}) // never closed: only the client can end the wait
	applied := make(chan struct{}, 1)
	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultDelay, Hold: hold, Applied: applied})
	u, err := url.Parse(srv.URL())
	require.NoError(t, err)
	var d net.Dialer
	conn, err := d.DialContext(ctx(t), "tcp", u.Host)
	require.NoError(t, err)
	defer func() { _ = conn.Close() }()
	require.NoError(t, conn.SetDeadline(time.Now().Add(safetyNet)))
	_, err = io.WriteString(conn, "GET "+covList+" HTTP/1.1\r\nHost: "+u.Host+"\r\nAuthorization: "+basicAuth()+"\r\n\r\n")
	require.NoError(t, err)
	await(t, applied, "holding the answer")

	tcp, ok := conn.(*net.TCPConn)
	require.True(t, ok)
	require.NoError(t, tcp.CloseWrite())
	rest, err := io.ReadAll(conn)
	require.NoError(t, err, "the server closes the connection")
	assert.Empty(t, rest, "without an answer")

	// The server is still up.
	assert.Equal(t, http.StatusOK, get(t, srv, covList).Status)
}
