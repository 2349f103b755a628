package zendesk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// external_ids values are strings by the reference; anything else Zendesk
// sends is kept as its JSON text rather than failing the answer.
func TestDecodeExternalIDsOfAnyType(t *testing.T) {
	t.Parallel()
	const body = `{"side_conversation":{"id":"a","external_ids":{"s":"x","n":42,"f":-1.5e3,"t":true,"z":null,"o":{"k": [1, "v"]},"a":[],"targetTicketId":10001}}}`
	want := map[string]string{"s": "x", "n": "42", "f": "-1.5e3", "t": "true", "z": "", "o": `{"k":[1,"v"]}`, "a": "[]", "targetTicketId": "10001"}

	c, mt, _ := newMockClient(t)
	register(mt, http.MethodGet, testRoot+"tickets/1/side_conversations/a", reply(200, body))
	sc, _, err := c.SideConversations.Show(context.Background(), 1, "a", nil)
	require.NoError(t, err)
	assert.Equal(t, want, sc.ExternalIDs)
	child, ok := sc.ChildTicketID()
	assert.True(t, ok, "a numeric targetTicketId is still the child ticket")
	assert.EqualValues(t, 10001, child)

	var root struct {
		SideConversation SideConversation `json:"side_conversation"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &root))
	assert.Equal(t, want, root.SideConversation.ExternalIDs, "the exported type decodes the same")

	var m Message
	require.NoError(t, json.Unmarshal([]byte(`{"external_ids":{"n":7,"b":false}}`), &m))
	assert.Equal(t, map[string]string{"n": "7", "b": "false"}, m.ExternalIDs)

	for in, want := range map[string]map[string]string{
		`null`: nil, `[]`: nil, `{}`: {}, `{"a":"\u00e9\n"}`: {"a": "é\n"},
	} {
		var sc SideConversation
		require.NoError(t, json.Unmarshal([]byte(`{"external_ids":`+in+`}`), &sc), in)
		assert.Equal(t, want, sc.ExternalIDs, in)
	}
	for _, bad := range []string{`"x"`, `1`, `true`, `["x"]`, `{"a":}`} {
		var sc SideConversation
		assert.Error(t, json.Unmarshal([]byte(`{"external_ids":`+bad+`}`), &sc), bad)
	}
}

// Times come in any ISO 8601 form; one that is no time at all decodes as
// the zero time instead of failing the answer. A value that is not a
// string is an error.
func TestDecodeTimes(t *testing.T) {
	t.Parallel()
	at := time.Date(2018, 11, 20, 16, 58, 36, 453_000_000, time.UTC)
	cases := map[string]time.Time{
		`"2018-11-20T16:58:36.453+00:00"`:  at,
		`"2018-11-20T16:58:36.453Z"`:       at,
		`"2018-11-20T17:58:36.453+01:00"`:  at,
		`"2018-11-20T16:58:36.453+0000"`:   at,
		`"2018-11-20 16:58:36.453+00:00"`:  at,
		`"2018-11-20 16:58:36.453 +0000"`:  at,
		`"2018-11-20T16:58:36.453"`:        at,
		`"2018-11-20"`:                     time.Date(2018, 11, 20, 0, 0, 0, 0, time.UTC),
		`" 2018-11-20T16:58:36.453Z "`:     at,
		`"2018-11-20T16:58:36.453\u005a"`:  at, // escaped
		`""`:                               {},
		`"yesterday"`:                      {},
		`null`:                             {},
		`"2018-11-20T16:58:36.453+25:00"`:  {},
		`"\u0000"`:                         {},
		`"2018-11-20T16:58:36.453+00:00 "`: at,
	}
	for in, want := range cases {
		var ev Event
		require.NoError(t, json.Unmarshal([]byte(`{"id":"e","created_at":`+in+`}`), &ev), in)
		assert.True(t, ev.CreatedAt.Equal(want), "%s: %s", in, ev.CreatedAt)
		var sc SideConversation
		require.NoError(t, json.Unmarshal([]byte(`{"id":"s","created_at":`+in+`,"updated_at":`+in+`}`), &sc), in)
		assert.True(t, sc.UpdatedAt.Equal(want), "%s: %s", in, sc.UpdatedAt)
	}
	for _, bad := range []string{`1542733116`, `true`, `{}`, `[]`} {
		var ev Event
		assert.Error(t, json.Unmarshal([]byte(`{"created_at":`+bad+`}`), &ev), bad)
	}
}

// null stands for the zero value of any field, and a null name or user id
// is the same as an absent one: no participant field gives null a meaning
// of its own, and 0 is never a Zendesk id.
func TestDecodeNulls(t *testing.T) {
	t.Parallel()
	const body = `{"side_conversations":[{"id":"a","subject":null,"preview_text":null,"url":null,"state":null,"ticket_id":null,
		"participants":[{"email":"bob@example.com","name":null,"user_id":null},null],"external_ids":null,
		"created_at":null,"updated_at":null,"message_added_at":null,"state_updated_at":null}],
		"events":[{"id":"e","side_conversation_id":"a","ticket_id":null,"type":"reply","via":null,"url":null,"actor":null,"created_at":null,
		"message":{"subject":null,"body":null,"html_body":null,"preview_text":null,"from":null,"to":null,"external_ids":null,"attachments":null},
		"updates":null},{"id":"f","side_conversation_id":"a","message":null}],
		"next_page":null,"previous_page":null,"count":null}`
	c, mt, _ := newMockClient(t)
	register(mt, http.MethodGet, testRoot+"tickets/1/side_conversations", reply(200, body))
	convs, resp, err := c.SideConversations.List(context.Background(), 1, &ListOptions{IncludeEvents: true})
	require.NoError(t, err)
	require.Len(t, convs, 1)
	assert.Equal(t, SideConversation{
		ID:           "a",
		Participants: []Participant{{Email: "bob@example.com"}, {}},
		Events:       []Event{{ID: "e", SideConversationID: "a", Type: EventReply, Message: &Message{}}, {ID: "f", SideConversationID: "a"}},
	}, convs[0])
	assert.Empty(t, resp.NextPage)
	assert.Zero(t, resp.Count)
}

// The reference types support_group_id and support_agent_id as strings
// while its examples send numbers: any of them decodes, and a list page with
// a text id is not lost.
func TestDecodeSupportIDsOfAnyType(t *testing.T) {
	t.Parallel()
	const body = `{"side_conversations":[
		{"id":"a","participants":[{"support_group_id":123,"support_agent_id":"456"}]},
		{"id":"b","participants":[{"support_group_id":"tier-2","support_agent_id":1.5,"name":"Tier 2"}]},
		{"id":"c","participants":[{"support_group_id":null,"support_agent_id":""}]}],"count":3}`
	c, mt, _ := newMockClient(t)
	register(mt, http.MethodGet, testRoot+"tickets/1/side_conversations", reply(200, body))
	convs, _, err := c.SideConversations.List(context.Background(), 1, nil)
	require.NoError(t, err)
	require.Len(t, convs, 3)
	assert.Equal(t, []Participant{SupportAgent(123, 456)}, convs[0].Participants)
	b := convs[1].Participants[0]
	assert.Equal(t, Participant{SupportGroupIDText: "tier-2", SupportAgentIDText: "1.5", Name: "Tier 2"}, b)
	assert.Equal(t, ChannelChildTicket, b.Channel())
	assert.Equal(t, []Participant{{}}, convs[2].Participants)

	// Encoded back as the text it came as.
	out, err := json.Marshal(b)
	require.NoError(t, err)
	assert.JSONEq(t, `{"name":"Tier 2","support_group_id":"tier-2","support_agent_id":"1.5"}`, string(out))
	var again Participant
	require.NoError(t, json.Unmarshal(out, &again))
	assert.Equal(t, b, again)
	out, err = json.Marshal(Participant{SupportGroupID: 5, SupportAgentIDText: "x"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"support_group_id":5,"support_agent_id":"x"}`, string(out))
}

// A usual answer is decoded the fast way, null included. An answer with a
// value only the tolerant way reads takes that way and decodes to the
// values of the usual form of the same answer.
func TestDecodeWays(t *testing.T) {
	t.Parallel()
	const usual = `{"side_conversation":{"id":"a","ticket_id":42,"subject":"Printer","state":"open",` +
		`"external_ids":{"crm":"C-1"},"created_at":"2018-11-20T16:58:36.453+00:00",` +
		`"participants":[{"user_id":7,"name":"Ann","email":"ann@example.com"},{"support_group_id":360001,"support_agent_id":5}]}}`
	want := SideConversation{
		ID: "a", TicketID: 42, Subject: "Printer", State: StateOpen,
		ExternalIDs:  map[string]string{"crm": "C-1"},
		CreatedAt:    time.Date(2018, 11, 20, 16, 58, 36, 453_000_000, time.UTC),
		Participants: []Participant{{UserID: 7, Name: "Ann", Email: "ann@example.com"}, SupportAgent(360001, 5)},
	}
	odd := func(old, new string) string {
		require.Contains(t, usual, old)
		return strings.Replace(usual, old, new, 1)
	}
	with := func(change func(*SideConversation)) SideConversation {
		sc := want
		sc.Participants = slices.Clone(want.Participants)
		change(&sc)
		return sc
	}
	cases := []struct {
		name     string
		body     string
		tolerant bool
		want     SideConversation
	}{
		{"usual", usual, false, want},
		{"null everywhere", `{"side_conversation":{"id":"a","ticket_id":null,"subject":null,"preview_text":null,"url":null,"state":null,` +
			`"external_ids":null,"created_at":null,"updated_at":null,"message_added_at":null,"state_updated_at":null,` +
			`"participants":[null,{"user_id":null,"name":null,"email":null,"support_group_id":null,"support_agent_id":null}]},"events":null}`,
			false, SideConversation{ID: "a", Participants: []Participant{{}, {}}}},
		{"numeric external id", odd(`"crm":"C-1"`, `"crm":"C-1","targetTicketId":10001`), true,
			with(func(sc *SideConversation) {
				sc.ExternalIDs = map[string]string{"crm": "C-1", "targetTicketId": "10001"}
			})},
		{"external_ids as an empty array", odd(`{"crm":"C-1"}`, `[]`), true, with(func(sc *SideConversation) { sc.ExternalIDs = nil })},
		{"string support id, as the reference types it", odd(`"support_group_id":360001`, `"support_group_id":"360001"`), false, want},
		{"text support id", odd(`"support_agent_id":5`, `"support_agent_id":"tier-2"`), true,
			with(func(sc *SideConversation) {
				sc.Participants[1] = Participant{SupportGroupID: 360001, SupportAgentIDText: "tier-2"}
			})},
		{"string user id", odd(`"user_id":7`, `"user_id":"7"`), true, want},
		{"ISO 8601 time without a colon in the offset", odd(`+00:00"`, `+0000"`), true, want},
		{"string that is no time", odd(`"2018-11-20T16:58:36.453+00:00"`, `"soon"`), true,
			with(func(sc *SideConversation) { sc.CreatedAt = time.Time{} })},
	}
	c, err := NewClient("acme", APIToken(testEmail, testToken))
	require.NoError(t, err)
	for _, tc := range cases {
		var one conversationAnswer
		tolerant, err := decodeAnswerBody(c, []byte(tc.body), &one)
		require.NoError(t, err, tc.name)
		assert.Equal(t, tc.tolerant, tolerant, "%s: the tolerant way", tc.name)
		got := one.conversation[0]
		assert.True(t, tc.want.CreatedAt.Equal(got.CreatedAt), "%s: %s", tc.name, got.CreatedAt)
		got.CreatedAt, tc.want.CreatedAt = time.Time{}, time.Time{}
		assert.Equal(t, tc.want, got, tc.name)
	}
}

// Every example answer takes the fast way, the one that gives a
// support_group_id as a string, as the reference types it, included. With
// their user ids given as strings, they take the tolerant way to the same
// values.
func TestExampleAnswersWays(t *testing.T) {
	t.Parallel()
	answers := map[string]func() any{
		"create_side_conversation.json":            func() any { return &resultAnswer{} },
		"import_side_conversation.json":            func() any { return &resultAnswer{} },
		"import_events.json":                       func() any { return &resultAnswer{} },
		"reply_side_conversation.json":             func() any { return &resultAnswer{} },
		"show_side_conversation.json":              func() any { return &conversationAnswer{} },
		"show_side_conversation_with_events.json":  func() any { return &conversationAnswer{} },
		"update_side_conversation.json":            func() any { return &conversationAnswer{} },
		"list_side_conversations.json":             func() any { return &pageAnswer{} },
		"list_side_conversations_with_events.json": func() any { return &pageAnswer{} },
		"list_events.json":                         func() any { return &eventsAnswer{} },
		"incremental_events.json":                  func() any { return &incrementalAnswer{} },
		"upload_attachment.json":                   func() any { return &UploadedAttachment{} },
	}
	paths, err := filepath.Glob(filepath.Join("testdata", "responses", "*.json"))
	require.NoError(t, err)
	assert.Len(t, paths, len(answers)+1, "every example answer but side_conversation.json, a bare object, is here")
	c, err := NewClient("acme", APIToken(testEmail, testToken))
	require.NoError(t, err)
	userID := regexp.MustCompile(`"user_id": (\d+)`)
	for name, newAnswer := range answers {
		raw := fixture(t, "responses/"+name)
		usual := newAnswer()
		tolerant, err := decodeAnswerBody(c, raw, usual)
		require.NoError(t, err, name)
		assert.False(t, tolerant, "%s: the fast way", name)
		if !userID.Match(raw) {
			continue
		}
		odd := newAnswer()
		tolerant, err = decodeAnswerBody(c, userID.ReplaceAll(raw, []byte(`"user_id": "$1"`)), odd)
		require.NoError(t, err, name)
		assert.True(t, tolerant, "%s with string user ids: the tolerant way", name)
		assert.Equal(t, usual, odd, name)
	}
	var bare fastConversation
	assert.NoError(t, json.Unmarshal(fixture(t, "responses/side_conversation.json"), &bare), "side_conversation.json decodes the fast way")
}

// How a 2xx body ends decides the outcome, whichever way it is decoded: a
// body that broke off, is empty or is no JSON may come whole next time; one
// that is too large, not an object or of the wrong shape will not. The
// answer is the first JSON value of the body, as the client always read
// it.
func TestDecodeBodyOutcomes(t *testing.T) {
	t.Parallel()
	c, err := NewClient("acme", APIToken(testEmail, testToken), WithMaxResponseBytes(64))
	require.NoError(t, err)
	const whole = `{"side_conversation":{"id":"a"}}`
	reset := errors.New("connection reset by peer")
	brokenAfter := func(s string) io.Reader { return io.MultiReader(strings.NewReader(s), iotest.ErrReader(reset)) }
	cases := []struct {
		name      string
		body      io.Reader
		retryable bool
		err       string // empty when the body decodes
	}{
		{"whole", strings.NewReader(whole), false, ""},
		{"whole, then more", strings.NewReader(whole + `{"id":"b"}`), false, ""},
		{"whole, then the connection fails", brokenAfter(whole), false, ""},
		{"broken off by the connection", brokenAfter(whole[:20]), true, "connection reset"},
		{"broken off", strings.NewReader(whole[:20]), true, "could not be decoded"},
		{"odd and broken off", strings.NewReader(`{"side_conversation":{"id":"a","created_at":"2018-11-20 16:58"`), true, "could not be decoded"},
		{"empty", strings.NewReader(""), true, "the body is empty"},
		{"white space", strings.NewReader(" \r\n\t"), true, "the body is empty"},
		{"no JSON", strings.NewReader("<html>ok</html>"), true, "could not be decoded"},
		{"too large", strings.NewReader(strings.Repeat(" ", 40) + whole), false, "64-byte limit"},
		{"null", strings.NewReader("null"), false, "not an object"},
		{"array", strings.NewReader("[]"), false, "json: the value is a JSON array, not an object"},
		{"wrong type", strings.NewReader(`{"side_conversation":{"id":42}}`), false, "json: side_conversation.id is a JSON number, not a string"},
	}
	for _, tc := range cases {
		var one conversationAnswer
		retryable, err := c.decodeBody(tc.body, -1, &one, &answerBody{})
		if tc.err == "" {
			require.NoError(t, err, tc.name)
			assert.Equal(t, "a", one.conversation[0].ID, tc.name)
			continue
		}
		require.Error(t, err, tc.name)
		assert.Contains(t, err.Error(), tc.err, tc.name)
		assert.Equal(t, tc.retryable, retryable, "%s: retryable", tc.name)
	}
}

// A type error names the JSON path of the value, not the Go types it is
// decoded into, and is still a *json.UnmarshalTypeError.
func TestDecodeTypeErrors(t *testing.T) {
	t.Parallel()
	var sc SideConversation
	err := json.Unmarshal([]byte(`{"id":"a","participants":[{"email":["x"]}]}`), &sc)
	require.Error(t, err)
	assert.Equal(t, "json: participants.email is a JSON array, not a string", err.Error())
	var te *json.UnmarshalTypeError
	assert.ErrorAs(t, err, &te)
}

// The values of an answer share no memory with the read buffer, which the
// next call reads into: overwriting the buffer changes none of them, on
// either way.
func TestDecodedAnswersOwnTheirMemory(t *testing.T) {
	t.Parallel()
	c, err := NewClient("acme", APIToken(testEmail, testToken))
	require.NoError(t, err)
	odd := fixture(t, "responses/list_side_conversations_with_events.json")
	odd = bytes.Replace(odd, []byte(`"support_group_id": "360001"`), []byte(`"support_group_id": "group-a"`), 1)
	usual := fixture(t, "responses/list_side_conversations_with_events.json")
	require.NotEqual(t, odd, usual)
	for _, body := range [][]byte{usual, odd} {
		var b answerBody
		var page, again pageAnswer
		resp := &http.Response{StatusCode: http.StatusOK, ContentLength: -1, Body: io.NopCloser(bytes.NewReader(body))}
		require.NoError(t, c.decodeSuccess(resp, &page, 1, &b))
		assert.Equal(t, bytes.Equal(body, odd), b.tolerant)
		_, err := decodeAnswerBody(c, body, &again)
		require.NoError(t, err)
		buf := b.buf[:cap(b.buf)]
		for i := range buf {
			buf[i] = '#'
		}
		assert.Equal(t, again, page)
	}
}

// A call's state keeps its read buffer for the next call, unless an
// answer made it larger than maxKeptBuffer.
func TestAnswerBufferKept(t *testing.T) {
	t.Parallel()
	c, err := NewClient("acme", APIToken(testEmail, testToken))
	require.NoError(t, err)
	decode := func(b *answerBody, size int) {
		t.Helper()
		body := strings.Repeat(" ", size-2) + "{}"
		var up UploadedAttachment
		_, err := c.decodeBody(strings.NewReader(body), -1, &up, b)
		require.NoError(t, err)
		b.reset()
	}
	var b answerBody
	decode(&b, 10_000)
	kept := cap(b.buf)
	require.GreaterOrEqual(t, kept, 10_000)
	decode(&b, 10_000)
	assert.Equal(t, kept, cap(b.buf), "the next body of the same size is read into the same buffer")
	decode(&b, maxKeptBuffer+1)
	assert.Nil(t, b.buf, "a buffer larger than maxKeptBuffer is not kept")
}

// Every example answer decodes into the exported types and encodes back
// without losing a value: what was not null (or an empty object or array)
// comes out again, and decoding the output gives the same values again. The
// client's own decoding gives the same values as the exported types'.
func TestReferenceResponsesRoundTrip(t *testing.T) {
	t.Parallel()
	paths, err := filepath.Glob(filepath.Join("testdata", "responses", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(path)
			require.NoError(t, err)
			decoded := decodeFixture(t, filepath.Base(path), raw)
			out, err := json.Marshal(decoded)
			require.NoError(t, err)
			assert.Equal(t, withoutEmpty(generic(t, raw)), withoutEmpty(generic(t, out)), "re-encoded:\n%s", out)
			again, err := json.Marshal(decodeFixture(t, filepath.Base(path), out))
			require.NoError(t, err)
			assert.JSONEq(t, string(out), string(again), "decoding the output gives the same values")
		})
	}
}

// fixtureEnvelope holds every envelope key of the example answers, decoded
// into the exported types.
type fixtureEnvelope struct {
	Event             *Event             `json:"event,omitempty"`
	SideConversation  *SideConversation  `json:"side_conversation,omitempty"`
	SideConversations []SideConversation `json:"side_conversations,omitempty"`
	Events            []Event            `json:"events,omitempty"`
	Updates           *Updates           `json:"updates,omitempty"`
	NextPage          *string            `json:"next_page,omitempty"`
	PreviousPage      *string            `json:"previous_page,omitempty"`
	Count             *int               `json:"count,omitempty"`
	EndTime           *int64             `json:"end_time,omitempty"`
	EndOfStream       *bool              `json:"end_of_stream,omitempty"`
}

func decodeFixture(t *testing.T, name string, raw []byte) any {
	t.Helper()
	switch name {
	case "side_conversation.json":
		var sc SideConversation
		require.NoError(t, json.Unmarshal(raw, &sc))
		return sc
	case "upload_attachment.json":
		var up UploadedAttachment
		require.NoError(t, json.Unmarshal(raw, &up))
		return up
	}
	var env fixtureEnvelope
	require.NoError(t, json.Unmarshal(raw, &env))

	// The client's decoding agrees.
	c := cannedClient(t, func() []byte { return raw })
	decode := func(out any) {
		t.Helper()
		_, err := decodeAnswerBody(c, raw, out)
		require.NoError(t, err)
	}
	switch {
	case env.SideConversations != nil:
		var page pageAnswer
		decode(&page)
		convs, unmatched := attachedByHand(env.SideConversations, env.Events)
		assert.Equal(t, convs, page.conversations)
		assert.Equal(t, unmatched, page.unmatched)
	case env.Event != nil:
		var res resultAnswer
		decode(&res)
		assert.Equal(t, SideConversationResult{Event: *env.Event, SideConversation: *env.SideConversation, Updates: *env.Updates}, res.result)
	case env.SideConversation != nil:
		var one conversationAnswer
		decode(&one)
		convs, unmatched := attachedByHand([]SideConversation{*env.SideConversation}, env.Events)
		assert.Equal(t, convs[0], one.conversation[0])
		assert.Equal(t, unmatched, one.unmatched)
	case env.Events != nil:
		var page eventsAnswer
		decode(&page)
		assert.Equal(t, env.Events, page.events)
	default:
		t.Fatalf("%s holds no envelope this test knows", name)
	}
	return env
}

// attachedByHand returns copies of convs with the events of each attached,
// oldest first, and the events of none.
func attachedByHand(convs []SideConversation, events []Event) ([]SideConversation, []Event) {
	out := slices.Clone(convs)
	var unmatched []Event
	for _, ev := range events {
		i := slices.IndexFunc(out, func(sc SideConversation) bool { return sc.ID == ev.SideConversationID })
		if i < 0 {
			unmatched = append(unmatched, ev)
			continue
		}
		out[i].Events = append(out[i].Events, ev)
	}
	for i := range out {
		sortEvents(out[i].Events)
	}
	return out, unmatched
}

// decodeAnswerBody decodes body as the client decodes a 200 answer into
// out, and reports whether it took the tolerant way.
func decodeAnswerBody(c *Client, body []byte, out any) (tolerant bool, err error) {
	var b answerBody
	resp := &http.Response{StatusCode: http.StatusOK, ContentLength: int64(len(body)), Body: io.NopCloser(bytes.NewReader(body))}
	err = c.decodeSuccess(resp, out, 1, &b)
	return b.tolerant, err
}

func generic(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(b, &v))
	return normalizeTimes(v)
}

// withoutEmpty drops nulls, empty objects and empty arrays, which the
// exported types leave out when they encode, and reads a child-ticket id
// given as a numeric string as the number it is encoded back as.
func withoutEmpty(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if s, ok := e.(string); ok && (k == "support_group_id" || k == "support_agent_id") {
				if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil {
					e = float64(n)
				}
			}
			if e = withoutEmpty(e); e != nil {
				out[k] = e
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case []any:
		var out []any
		for _, e := range x {
			out = append(out, withoutEmpty(e))
		}
		if len(out) == 0 {
			return nil
		}
		return out
	}
	return v
}

// A Message read from Zendesk can be sent back: only its writable fields
// go out, on Create, Reply, Import and ImportEvents alike.
func TestRequestsCarryNoReadOnlyFields(t *testing.T) {
	t.Parallel()
	var created struct {
		Event Event `json:"event"`
	}
	require.NoError(t, json.Unmarshal(fixture(t, "responses/create_side_conversation.json"), &created))
	m := *created.Event.Message
	require.NotEmpty(t, m.HTMLBody)
	require.NotEmpty(t, m.PreviewText)
	require.NotEmpty(t, m.Attachments)
	want := `{"subject":"My printer is on fire!","body":"The smoke is very colorful.",
		"from":{"user_id":2,"name":"Agent Sally","email":"sally@example.com"},
		"to":[{"email":"someone@example.com"}],"external_ids":{"message-external":"xyz"}}`

	c, mt, _ := newMockClient(t)
	answer := reply(201, string(fixture(t, "responses/create_side_conversation.json")))
	create := register(mt, http.MethodPost, testRoot+"tickets/42/side_conversations", answer)
	replies := register(mt, http.MethodPost, testRoot+"tickets/42/side_conversations/"+convID+"/reply", answer)
	imports := register(mt, http.MethodPost, testRoot+"tickets/42/side_conversations/import", answer)
	importEvents := register(mt, http.MethodPost, testRoot+"tickets/42/side_conversations/"+convID+"/events/import", answer)
	ctx := context.Background()

	_, _, err := c.SideConversations.Create(ctx, 42, CreateRequest{Message: m})
	require.NoError(t, err)
	assert.JSONEq(t, `{"message":`+want+`}`, string(create.last(t).Body))

	_, _, err = c.SideConversations.Reply(ctx, 42, convID, ReplyRequest{Message: m})
	require.NoError(t, err)
	assert.JSONEq(t, `{"message":`+want+`}`, string(replies.last(t).Body))

	ev := ImportEvent{CreatedAt: importedTime, Message: m}
	_, _, err = c.SideConversations.Import(ctx, 42, ImportRequest{Events: []ImportEvent{ev}})
	require.NoError(t, err)
	assert.JSONEq(t, `{"side_conversation":{},"events":[{"created_at":"2022-10-05T20:47:02.230Z","message":`+want+`}]}`, string(imports.last(t).Body))

	_, _, err = c.SideConversations.ImportEvents(ctx, 42, convID, []ImportEvent{ev})
	require.NoError(t, err)
	assert.JSONEq(t, `{"events":[{"created_at":"2022-10-05T20:47:02.230Z","message":`+want+`}]}`, string(importEvents.last(t).Body))

	for _, rec := range []*recorder{create, replies, imports, importEvents} {
		for _, key := range []string{"html_body", "preview_text", "attachments"} {
			assert.NotContains(t, string(rec.last(t).Body), `"`+key+`"`)
		}
	}
	// A Message encoded on its own keeps every field: it is what Zendesk
	// sent.
	out, err := json.Marshal(m)
	require.NoError(t, err)
	for _, key := range []string{"html_body", "preview_text", "attachments"} {
		assert.Contains(t, string(out), `"`+key+`"`)
	}
}

// A reply needs no recipients: without To it goes to the conversation's
// participants, and no "to" is sent.
func TestReplyWithoutRecipients(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	rec := register(mt, http.MethodPost, testRoot+"tickets/42/side_conversations/"+convID+"/reply",
		reply(200, string(fixture(t, "responses/reply_side_conversation.json"))))
	res, _, err := c.SideConversations.Reply(context.Background(), 42, convID, ReplyRequest{Message: Message{Body: "Any news?"}})
	require.NoError(t, err)
	assertSampleConversation(t, res.SideConversation)
	assert.JSONEq(t, `{"message":{"body":"Any news?"}}`, string(rec.last(t).Body))
}

// Update: every property is optional, external_ids is writable, and an
// update that names nothing is sent as such.
func TestUpdateBodies(t *testing.T) {
	t.Parallel()
	cases := []struct {
		req  UpdateRequest
		want string
	}{
		{UpdateRequest{}, `{"side_conversation":{}}`},
		{UpdateRequest{Subject: "Renamed"}, `{"side_conversation":{"subject":"Renamed"}}`},
		{UpdateRequest{ExternalIDs: map[string]string{"crm": "C-7"}}, `{"side_conversation":{"external_ids":{"crm":"C-7"}}}`},
		{UpdateRequest{State: StateClosed, Subject: "Done", ExternalIDs: map[string]string{"crm": "C-7"}},
			`{"side_conversation":{"state":"closed","subject":"Done","external_ids":{"crm":"C-7"}}}`},
	}
	for _, tc := range cases {
		c, mt, _ := newMockClient(t)
		rec := register(mt, http.MethodPut, testRoot+"tickets/42/side_conversations/"+convID,
			reply(200, string(fixture(t, "responses/update_side_conversation.json"))))
		sc, _, err := c.SideConversations.Update(context.Background(), 42, convID, tc.req)
		require.NoError(t, err, tc.want)
		assertSampleConversation(t, *sc)
		assert.JSONEq(t, tc.want, string(rec.last(t).Body))
	}
}

// name belongs to every participant type: a named Slack channel or Teams
// channel is not a mixed participant, and a Slack user (a workspace without
// a channel) may reply, send, or take part in an imported message, though it
// cannot open a Slack side conversation.
func TestParticipantTypesByReference(t *testing.T) {
	t.Parallel()
	named := []Participant{
		{SlackWorkspaceID: "T1", SlackChannelID: "C1", Name: "#ops"},
		{MSTeamsChannelID: "19:a@thread.tacv2", Name: "Ops"},
		{SupportGroupID: 3, Name: "Tier 2"},
		{Email: "a@example.com", Name: "Ann"},
	}
	for _, p := range named {
		assert.Len(t, p.channels(), 1, "%+v", p)
		require.NoError(t, p.Validate(), "%+v", p)
		require.NoError(t, CreateRequest{Message: Message{Body: "x", To: []Participant{p}}}.Validate(), "%+v", p)
	}
	assert.Empty(t, Participant{Name: "Ann"}.Channel(), "a name alone is no participant type")

	slackUser := Participant{SlackWorkspaceID: "T1", Name: "Ann"}
	assert.Equal(t, ChannelSlack, slackUser.Channel())
	err := CreateRequest{Message: Message{Body: "x", To: []Participant{slackUser}}}.Validate()
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "message.to[0].slack_channel_id", ve.Field)
	assert.NoError(t, ReplyRequest{Message: Message{Body: "x", To: []Participant{slackUser}}}.Validate())
	assert.NoError(t, CreateRequest{Message: Message{Body: "x", From: slackUser, To: []Participant{SlackChannel("T1", "C1")}}}.Validate())
	assert.NoError(t, ImportRequest{Events: []ImportEvent{{CreatedAt: importedTime,
		Message: Message{Body: "x", From: slackUser, To: []Participant{SlackChannel("T1", "C1")}}}}}.Validate())
	assert.NoError(t, Message{Body: "x", To: []Participant{slackUser}}.Validate())
}

// A sender follows the recipients' type, except an agent named by user_id,
// who may write to any type, as Zendesk's answers name agents (user_id with
// name and e-mail address).
func TestSenderFollowsRecipientsType(t *testing.T) {
	t.Parallel()
	agent := Participant{UserID: 2, Name: "Agent Sally", Email: "sally@example.com"}
	for _, to := range []Participant{SlackChannel("T", "C"), SupportGroup(1), TeamsChannel("19:a"), Email("a@example.com")} {
		assert.NoError(t, CreateRequest{Message: Message{Body: "x", From: agent, To: []Participant{to}}}.Validate(), "%+v", to)
		assert.NoError(t, ReplyRequest{Message: Message{Body: "x", From: Agent(2), To: []Participant{to}}}.Validate(), "%+v", to)
	}
	for _, from := range []Participant{Email("b@example.com"), NamedEmail("b@example.com", "B"), TeamsChannel("19:b"), SupportGroup(9)} {
		err := ReplyRequest{Message: Message{Body: "x", From: from, To: []Participant{SlackChannel("T", "C")}}}.Validate()
		var ve *ValidationError
		require.ErrorAs(t, err, &ve, "%+v", from)
		assert.Equal(t, "message.from", ve.Field)
		assert.ErrorIs(t, err, ErrMixedParticipants)
	}
	// With no recipients there is nothing to mix with.
	assert.NoError(t, ReplyRequest{Message: Message{Body: "x", From: Email("b@example.com")}}.Validate())
}

// No rule asks for a body: the reference has none. A message with only an
// HTML body is refused, since html_body is not sent and the message would
// go out empty.
func TestBodyRules(t *testing.T) {
	t.Parallel()
	to := []Participant{Email("a@example.com")}
	assert.NoError(t, CreateRequest{Message: Message{Subject: "Only a subject", To: to}}.Validate())
	assert.NoError(t, CreateRequest{Message: Message{AttachmentIDs: []string{"s3-x"}, To: to}}.Validate())
	assert.NoError(t, ReplyRequest{Message: Message{}}.Validate())
	assert.NoError(t, ImportRequest{Events: []ImportEvent{{CreatedAt: importedTime}}}.Validate())
	assert.NoError(t, CreateRequest{Message: Message{Body: "text", HTMLBody: "<p>text</p>", To: to}}.Validate())
	err := ReplyRequest{Message: Message{HTMLBody: "<p>text</p>"}}.Validate()
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "message.html_body", ve.Field)
	assert.True(t, strings.Contains(ve.Reason, "Body"), ve.Reason)
}

// BenchmarkDecode measures the decoding of each answer envelope by itself,
// beside the baseline of bench_test.go decoding the same body: "client" is
// what a call does with a 2xx body (read it through the size limit, decode
// it, and turn it into the exported values the method returns), "plain" is
// encoding/json alone decoding it into the baseline's structs, as
// baseline() does. "paired" runs the two alternately, as BenchmarkPaired
// does, and reports their ratio, which the load of a shared machine moves
// less than it moves separate runs. ListPage100Exported decodes a page into
// the exported types, as a caller that reads Zendesk's JSON itself does.
// Run it before and after a change of decoding:
//
//	go test -run '^$' -bench 'Decode$' -benchmem -count 6 .
func BenchmarkDecode(b *testing.B) {
	page := bigListPage(100, 3)
	d := newBenchDecoder(b)
	type plainPage struct {
		SideConversations []plainConversation `json:"side_conversations"`
		Events            []plainEvent        `json:"events"`
		NextPage          *string             `json:"next_page"`
		PreviousPage      *string             `json:"previous_page"`
		Count             int                 `json:"count"`
	}
	cases := []struct {
		name          string
		body          []byte
		client, plain func(body io.Reader) error
	}{
		{"Show", fixture(b, "responses/show_side_conversation.json"), d.show, func(body io.Reader) error {
			var root struct {
				SideConversation plainConversation `json:"side_conversation"`
			}
			return json.NewDecoder(body).Decode(&root)
		}},
		{"Create", fixture(b, "responses/create_side_conversation.json"), d.create, func(body io.Reader) error {
			var root plainResult
			return json.NewDecoder(body).Decode(&root)
		}},
		{"ListPage100", page, d.list, func(body io.Reader) error {
			var root plainPage
			if err := json.NewDecoder(body).Decode(&root); err != nil {
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
			return nil
		}},
		{"Events", fixture(b, "responses/list_events.json"), d.events, func(body io.Reader) error {
			var root struct {
				Events       []plainEvent `json:"events"`
				NextPage     *string      `json:"next_page"`
				PreviousPage *string      `json:"previous_page"`
				Count        int          `json:"count"`
			}
			return json.NewDecoder(body).Decode(&root)
		}},
		{"Incremental", fixture(b, "responses/incremental_events.json"), d.incremental, func(body io.Reader) error {
			var root struct {
				Events      []plainEvent `json:"events"`
				NextPage    *string      `json:"next_page"`
				EndTime     int64        `json:"end_time"`
				Count       int          `json:"count"`
				EndOfStream bool         `json:"end_of_stream"`
			}
			return json.NewDecoder(body).Decode(&root)
		}},
		{"Upload", fixture(b, "responses/upload_attachment.json"), d.upload, func(body io.Reader) error {
			var up UploadedAttachment // no UnmarshalJSON of its own: plain already
			return json.NewDecoder(body).Decode(&up)
		}},
		{"ListPage100Exported", page, func(io.Reader) error {
			var root struct {
				SideConversations []SideConversation `json:"side_conversations"`
				Events            []Event            `json:"events"`
			}
			return json.Unmarshal(page, &root)
		}, func(io.Reader) error {
			var root plainPage
			return json.Unmarshal(page, &root)
		}},
	}
	for _, tc := range cases {
		rd := bytes.NewReader(tc.body)
		decoding := func(decode func(io.Reader) error) func() error {
			return func() error {
				rd.Reset(tc.body)
				return decode(rd)
			}
		}
		client, plain := decoding(tc.client), decoding(tc.plain)
		for _, side := range []struct {
			name   string
			decode func() error
		}{{"client", client}, {"plain", plain}} {
			b.Run(tc.name+"/"+side.name, func(b *testing.B) {
				b.SetBytes(int64(len(tc.body)))
				b.ReportAllocs()
				for b.Loop() {
					if err := side.decode(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		b.Run(tc.name+"/paired", func(b *testing.B) {
			inClient, inPlain, n := alternate(b, client, plain)
			b.ReportMetric(float64(inClient.Nanoseconds())/float64(n), "client-ns/op")
			b.ReportMetric(float64(inPlain.Nanoseconds())/float64(n), "plain-ns/op")
			b.ReportMetric(float64(inClient)/float64(inPlain), "client/plain")
		})
	}
}

// benchSink keeps the benchmarks' results alive, as a caller would.
var benchSink any

// benchDecoder decodes 2xx bodies as the client does for each call, with
// the state the client recycles from call to call.
type benchDecoder struct {
	c    *Client
	resp *http.Response
	body struct{ io.Reader }
	ab   answerBody
}

func newBenchDecoder(b *testing.B) *benchDecoder {
	c, err := NewClient("acme", APIToken(testEmail, testToken))
	if err != nil {
		b.Fatal(err)
	}
	d := &benchDecoder{c: c}
	d.resp = &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(&d.body), ContentLength: -1}
	return d
}

// decode decodes as a call does, and recycles the state as the client does
// after the call.
func (d *benchDecoder) decode(body io.Reader, out any) error {
	d.body.Reader = body
	d.resp.ContentLength = int64(body.(*bytes.Reader).Len())
	err := d.c.decodeSuccess(d.resp, out, 1, &d.ab)
	d.ab.reset()
	return err
}

func (d *benchDecoder) show(body io.Reader) error {
	var one conversationAnswer
	if err := d.decode(body, &one); err != nil {
		return err
	}
	benchSink = &one.conversation[0]
	return nil
}

func (d *benchDecoder) create(body io.Reader) error {
	var res resultAnswer
	if err := d.decode(body, &res); err != nil {
		return err
	}
	benchSink = &res.result
	return nil
}

func (d *benchDecoder) list(body io.Reader) error {
	var page pageAnswer
	if err := d.decode(body, &page); err != nil {
		return err
	}
	benchSink = page.conversations
	return nil
}

func (d *benchDecoder) events(body io.Reader) error {
	var page eventsAnswer
	if err := d.decode(body, &page); err != nil {
		return err
	}
	benchSink = page.events
	return nil
}

func (d *benchDecoder) incremental(body io.Reader) error {
	var page incrementalAnswer
	if err := d.decode(body, &page); err != nil {
		return err
	}
	benchSink = page.events
	return nil
}

func (d *benchDecoder) upload(body io.Reader) error {
	var up UploadedAttachment
	if err := d.decode(body, &up); err != nil {
		return err
	}
	benchSink = &up
	return nil
}

// cannedClient returns a client whose every request is answered 200 (201
// for a POST) with the body of the moment.
func cannedClient(tb testing.TB, body func() []byte) *Client {
	hc := &http.Client{Transport: roundTripFunc(func(req *http.Request) (*http.Response, error) {
		status := http.StatusOK
		if req.Method == http.MethodPost {
			status = http.StatusCreated
		}
		return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(bytes.NewReader(body())), Request: req}, nil
	})}
	c, err := NewClient("acme", APIToken(testEmail, testToken), WithHTTPClient(hc), WithoutRetries())
	if err != nil {
		tb.Fatal(err)
	}
	return c
}
