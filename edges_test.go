package zendesk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// Every method refuses a bad ticket or conversation id before sending.
func TestEveryMethodChecksItsIDs(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	ctx := context.Background()
	ev := []ImportEvent{{CreatedAt: time.Now(), Message: emailMessage}}
	calls := map[string]func(int64, string) error{
		"Create": func(tk int64, _ string) error {
			_, _, err := c.SideConversations.Create(ctx, tk, CreateRequest{Message: emailMessage})
			return err
		},
		"Reply": func(tk int64, id string) error {
			_, _, err := c.SideConversations.Reply(ctx, tk, id, ReplyRequest{Message: emailMessage})
			return err
		},
		"Update": func(tk int64, id string) error {
			_, _, err := c.SideConversations.Update(ctx, tk, id, UpdateRequest{State: StateOpen})
			return err
		},
		"Import": func(tk int64, _ string) error {
			_, _, err := c.SideConversations.Import(ctx, tk, ImportRequest{Events: ev})
			return err
		},
		"ImportEvents": func(tk int64, id string) error {
			_, _, err := c.SideConversations.ImportEvents(ctx, tk, id, ev)
			return err
		},
		"ListEvents": func(tk int64, id string) error {
			_, _, err := c.SideConversations.ListEvents(ctx, tk, id, nil)
			return err
		},
	}
	for name, call := range calls {
		var ve *ValidationError
		require.ErrorAs(t, call(0, "x"), &ve, name)
		assert.Equal(t, "ticketID", ve.Field, name)
		if name != "Create" && name != "Import" {
			require.ErrorAs(t, call(1, ""), &ve, name)
			assert.Equal(t, "id", ve.Field, name)
		}
	}
	noCalls(t, mt)
}

func TestOtherRefusals(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	//nolint:staticcheck // a nil context is what is being refused
	_, _, err := c.SideConversations.Show(nil, 1, "x", nil)
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "ctx", ve.Field)

	_, _, err = c.SideConversations.UploadAttachment(context.Background(), "..", strings.NewReader("x"))
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "filename", ve.Field)

	err = CreateRequest{Message: Message{Body: "x", To: []Participant{SupportAgent(1, -2)}}}.Validate()
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "message.to[0].support_agent_id", ve.Field)

	err = CreateRequest{Message: Message{Body: "x", To: []Participant{{SupportGroupID: 1, SupportGroupIDText: "g"}}}}.Validate()
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "message.to[0].support_group_id", ve.Field)

	err = CreateRequest{Message: Message{Body: "x", To: []Participant{{SupportGroupIDText: " "}}}}.Validate()
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "message.to[0].support_group_id", ve.Field)

	for _, err := range c.SideConversations.IncrementalEvents(context.Background(), time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC)) {
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, "start", ve.Field)
	}
	noCalls(t, mt)

	// A ValidationError built without a field still reads well.
	assert.Equal(t, "zendesk: invalid request: nothing to send", (&ValidationError{Reason: "nothing to send"}).Error())
}

// The key is stamped beside the caller's own external ids, which are kept.
func TestIdempotencyKeyKeepsExternalIDs(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations", reply(200, `{"side_conversations":[]}`))
	rec := register(mt, http.MethodPost, testRoot+"tickets/42/side_conversations", reply(201, string(fixture(t, "responses/create_side_conversation.json"))))
	req := CreateRequest{Message: emailMessage, ExternalIDs: map[string]string{"crm": "C-7"}, IdempotencyKey: "k"}
	_, _, err := c.SideConversations.Create(context.Background(), 42, req)
	require.NoError(t, err)
	assert.Regexp(t, `"external_ids":\{"crm":"C-7","sideconv_idempotency_fingerprint":"[0-9a-f]{32}","sideconv_idempotency_key":"k"\}`, string(rec.last(t).Body))
	assert.Equal(t, map[string]string{"crm": "C-7"}, req.ExternalIDs, "the caller's map is not modified")
}

func TestCredentialsGoString(t *testing.T) {
	t.Parallel()
	for _, creds := range []Credentials{APIToken(testEmail, testToken), BearerToken(testBearer), OAuth(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: testOAuth}))} {
		s := creds.(fmt.GoStringer).GoString()
		assert.Contains(t, s, redacted)
		assert.NotContains(t, s, "5ecr3t")
	}
}

// A user's redirect policy is kept: it may allow a redirect or stop it,
// and a stopped redirect is not retried.
func TestUserRedirectPolicy(t *testing.T) {
	t.Parallel()
	for _, allow := range []bool{true, false} {
		mt := httpmock.NewMockTransport()
		policy := func(*http.Request, []*http.Request) error {
			if allow {
				return nil
			}
			return errors.New("no redirects here")
		}
		c, err := NewClient("acme", APIToken(testEmail, testToken),
			WithHTTPClient(&http.Client{Transport: mt, CheckRedirect: policy}), WithRetryPolicy(RetryPolicy{Wait: (&waits{}).wait}))
		require.NoError(t, err)
		first := register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations", reply(302, "", "Location", testRoot+"tickets/42/moved"))
		register(mt, http.MethodGet, testRoot+"tickets/42/moved", reply(200, `{"side_conversations":[{"id":"a"}]}`))
		convs, _, err := c.SideConversations.List(context.Background(), 42, nil)
		if allow {
			require.NoError(t, err)
			assert.Len(t, convs, 1)
			continue
		}
		assert.ErrorContains(t, err, "no redirects here")
		assert.Len(t, first.calls(), 1, "a refused redirect is final")
	}
}

// Without RetryPolicy.Wait the client sleeps on a real timer.
func TestRealWaits(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	c, err := NewClient("acme", APIToken(testEmail, testToken), WithHTTPClient(&http.Client{Transport: mt}),
		WithRetryPolicy(RetryPolicy{MinWait: time.Millisecond, MaxWait: 2 * time.Millisecond}))
	require.NoError(t, err)
	rec := register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations",
		reply(502, ""), reply(429, "", "Retry-After", "0"), reply(200, `{"side_conversations":[]}`))
	_, resp, err := c.SideConversations.List(context.Background(), 42, nil)
	require.NoError(t, err)
	assert.Equal(t, 3, resp.Attempts)
	assert.Len(t, rec.calls(), 3)
}

func TestRetryAfterBeyondAnyCap(t *testing.T) {
	t.Parallel()
	now := time.Now()
	d, ok := parseRetryAfter("99999999999", now)
	assert.True(t, ok)
	assert.Equal(t, maxRetryAfter, d)
	d, ok = parseRetryAfter(now.Add(24*365*10*time.Hour).UTC().Format(http.TimeFormat), now)
	assert.True(t, ok)
	assert.Equal(t, maxRetryAfter, d)
}

func TestMoreErrorBodyShapes(t *testing.T) {
	t.Parallel()
	e := &APIError{}
	e.parseErrorBody([]byte(" \n\t{\"errors\":[{\"code\":\"Invalid\",\"title\":\"Subject is too long\"}]}"))
	assert.Equal(t, "Invalid", e.Code)
	assert.Equal(t, "Subject is too long", e.Description, "leading white space is JSON too; the title describes")
}

// A credential that fails when a retry asks for it again ends the call
// without sending the retry.
func TestCredentialFailureOnRetry(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	src := sourceFunc(func() (*oauth2.Token, error) {
		if calls.Add(1) > 1 {
			return nil, errors.New("refresh token revoked")
		}
		return &oauth2.Token{AccessToken: testOAuth, Expiry: time.Now().Add(time.Second)}, nil
	})
	mt := httpmock.NewMockTransport()
	c, err := NewClient("acme", OAuth(src), WithHTTPClient(&http.Client{Transport: mt}), WithRetryPolicy(RetryPolicy{Wait: (&waits{}).wait}))
	require.NoError(t, err)
	rec := register(mt, http.MethodPost, testRoot+"tickets/42/side_conversations", reply(429, "", "Retry-After", "1"))
	_, _, err = createOn(c)
	require.Error(t, err)
	assert.ErrorContains(t, err, "refresh token revoked")
	assert.ErrorContains(t, err, "not sent: applying credentials")
	assert.NotErrorIs(t, err, ErrMaybeSent, "the only attempt was refused with 429")
	assert.Len(t, rec.calls(), 1)
}

type sourceFunc func() (*oauth2.Token, error)

func (f sourceFunc) Token() (*oauth2.Token, error) { return f() }

func TestTransportErrorAfterRetriesSaysSo(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	rec := register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations", fail(readReset))
	_, _, err := c.SideConversations.List(context.Background(), 42, nil)
	assert.ErrorContains(t, err, "(after 4 attempts)")
	assert.Len(t, rec.calls(), 4)
}

// A context ended while the answer was on its way is not retried.
func TestContextEndedDuringAttempt(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	mt.RegisterResponder(http.MethodGet, testRoot+"tickets/42/side_conversations", func(req *http.Request) (*http.Response, error) {
		calls++
		cancel()
		return reply(502, "")(req)
	})
	_, _, err := c.SideConversations.List(ctx, 42, nil)
	require.Error(t, err)
	assert.Equal(t, 1, calls)
}

// The debug log tells a failed decode, and a keyed send left unresolved
// after an ambiguous failure.
func TestLogsOfDecodeFailureAndResend(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	c, mt, _ := newMockClient(t, WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations/"+convID, reply(200, `{"side_conversation":{"id":42}}`))
	_, _, err := c.SideConversations.Show(context.Background(), 42, convID, nil)
	require.Error(t, err)
	assert.Contains(t, logs.String(), "could not be decoded")

	k := &keyedStore{outcomes: []outcome{{apply: false, status: 502}}}
	k.install(mt)
	_, _, err = keyedCreate(c, "logged")
	require.ErrorIs(t, err, ErrMaybeSent)
	assert.Contains(t, logs.String(), `msg="zendesk idempotency key unresolved" idempotency_key=logged`)
	assert.NotContains(t, logs.String(), testToken)
}

// A pause waited for before the first attempt can fail, and a pause that
// another call learned of holds a retry's backoff too.
func TestPacedWaits(t *testing.T) {
	t.Parallel()
	stop := errors.New("stop waiting")
	c, mt, _ := newMockClient(t, WithRetryPolicy(RetryPolicy{Wait: func(context.Context, time.Duration) error { return stop }}))
	register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations",
		reply(200, `{"side_conversations":[]}`, "ratelimit-remaining", "0", "ratelimit-reset", "9"))
	_, _, err := c.SideConversations.List(context.Background(), 42, nil)
	require.NoError(t, err)
	_, _, err = c.SideConversations.List(context.Background(), 42, nil)
	require.ErrorIs(t, err, stop)
	assert.ErrorContains(t, err, "not sent: waiting for the rate limit")

	// A pause another call learns of while this one is between attempts
	// holds its retry: the backoff and the rest of the pause add up to it.
	c2, mt2, w := newMockClient(t)
	announce := Attempt{Account: "acme.zendesk.com", Budget: BudgetPlan, MaxWait: time.Minute}
	mt2.RegisterResponder(http.MethodGet, testRoot+"tickets/42/side_conversations/"+convID, func(req *http.Request) (*http.Response, error) {
		// Another call's 429 arrives meanwhile.
		_, _ = c2.coord.Admit(req.Context(), announce)
		c2.coord.Done(req.Context(), announce, Answer{Status: http.StatusTooManyRequests, Rate: RateLimit{Limit: -1, Remaining: -1}, RetryAfter: 5 * time.Second})
		mt2.RegisterResponder(http.MethodGet, testRoot+"tickets/42/side_conversations/"+convID, reply(200, string(fixture(t, "responses/show_side_conversation.json"))))
		return reply(502, "")(req)
	})
	_, _, err = c2.SideConversations.Show(context.Background(), 42, convID, nil)
	require.NoError(t, err)
	waits := w.all()
	require.Len(t, waits, 2, "the show's backoff, then the rest of the pause")
	assert.Equal(t, 5*time.Second, waits[0]+waits[1])
}
