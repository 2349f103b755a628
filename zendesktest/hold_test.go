package zendesktest_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	zendesk "github.com/sideconv/zendesk"
	"github.com/sideconv/zendesk/zendesktest"
)

// safetyNet only turns a hang into a failure; a healthy run never comes
// near it.
const safetyNet = time.Minute

// await blocks until ch delivers a value.
func await[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(safetyNet):
		t.Fatalf("%s never happened", what)
		var zero T
		return zero
	}
}

// notYet fails the test if ch has a value ready.
func notYet[T any](t *testing.T, ch <-chan T, what string) {
	t.Helper()
	select {
	case v := <-ch:
		t.Fatalf("%s too early: %v", what, v)
	default:
	}
}

// rawCreate posts a Create body with the default credentials over a
// connection of its own and reports the status, or the error of a dropped
// connection.
func rawCreate(ctx context.Context, srv *zendesktest.Server, body string, authorize bool) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost,
		srv.URL()+"/api/v2/tickets/1/side_conversations", bytes.NewReader([]byte(body)))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if authorize {
		req.Header.Set("Authorization", basicAuth())
	}
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	if _, err := io.ReadAll(resp.Body); err != nil {
		return resp.StatusCode, err
	}
	return resp.StatusCode, nil
}

const createBody = `{"message":{"subject":"raw","body":"b","to":[{"email":"x@example.com"}]}}`

func TestFaultDelayHold(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	c := srv.Client(noWait())
	hold := make(chan struct{})
	applied := make(chan struct{}, 1)
	// Hold replaces Delay: an hour would outlast the test.
	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultDelay, Method: "POST", Delay: time.Hour,
		Hold: hold, Applied: applied})

	done := make(chan error, 1)
	go func() {
		_, _, err := c.SideConversations.Create(ctx(t), 1, emailCreate("held", "b", "x@example.com"))
		done <- err
	}()
	await(t, applied, "holding the answer")
	assert.Len(t, srv.SentMessages(), 1, "processed before the answer is held")
	notYet(t, done, "the answer")

	close(hold)
	require.NoError(t, await(t, done, "the answer after release"))
	assert.Len(t, srv.Requests(), 1)
}

func TestFaultDelayHoldManyRequests(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	c := srv.Client(noWait())
	hold := make(chan struct{})
	applied := make(chan struct{}, 3)
	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultDelay, Method: "GET", Times: 3, Hold: hold, Applied: applied})

	done := make(chan error, 3)
	for range 3 {
		go func() {
			_, _, err := c.SideConversations.List(ctx(t), 1, nil)
			done <- err
		}()
	}
	for i := range 3 {
		await(t, applied, "holding answer "+strconv.Itoa(i+1))
	}
	notYet(t, done, "an answer")
	close(hold)
	for i := range 3 {
		require.NoError(t, await(t, done, "answer "+strconv.Itoa(i+1)))
	}
}

func TestFaultDelayHoldClientGoesAway(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	c := srv.Client(noWait())
	hold := make(chan struct{})
	t.Cleanup(func() { close(hold) })
	applied := make(chan struct{}, 1)
	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultDelay, Method: "POST", Hold: hold, Applied: applied})

	callCtx, cancel := context.WithCancel(ctx(t))
	done := make(chan error, 1)
	go func() {
		_, _, err := c.SideConversations.Create(callCtx, 1, emailCreate("abandoned", "b", "x@example.com"))
		done <- err
	}()
	await(t, applied, "holding the answer")
	cancel()
	err := await(t, done, "the call to end")
	require.ErrorIs(t, err, zendesk.ErrMaybeSent, "the POST reached the server before the caller gave up")
	assert.ErrorIs(t, err, context.Canceled)
	assert.Len(t, srv.SentMessages(), 1, "processed all the same")

	// The hold is over for this request, and the server answers others.
	_, _, err = c.SideConversations.List(ctx(t), 1, nil)
	require.NoError(t, err)
}

func TestCloseEndsHold(t *testing.T) {
	t.Parallel()
	srv := zendesktest.NewServer()
	hold := make(chan struct{}) // never closed
	applied := make(chan struct{}, 1)
	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultDelay, Hold: hold, Applied: applied})
	done := make(chan error, 1)
	go func() {
		status, err := rawCreate(context.Background(), srv, createBody, true)
		if err == nil {
			err = errors.New("answered with " + strconv.Itoa(status))
		}
		done <- err
	}()
	await(t, applied, "holding the answer")

	srv.Close() // returns although Hold stays open
	err := await(t, done, "the request to end")
	assert.NotContains(t, err.Error(), "answered with", "the connection is cut, not answered")
}

// TestFaultApplied checks that every kind reports each application, once
// it has answered, and never before.
func TestFaultApplied(t *testing.T) {
	t.Parallel()
	kinds := []struct {
		kind      zendesktest.FaultKind
		processed bool
	}{
		{zendesktest.FaultStatus, false},
		{zendesktest.FaultHTMLBody, false},
		{zendesktest.FaultDropBeforeProcessing, false},
		{zendesktest.FaultDropAfterProcessing, true},
		{zendesktest.FaultTruncatedBody, true},
		{zendesktest.FaultEmptyBody, true},
		{zendesktest.FaultWrongTypes, true},
		{zendesktest.FaultDelay, true},
	}
	for _, k := range kinds {
		t.Run(k.kind.String(), func(t *testing.T) {
			t.Parallel()
			srv := zendesktest.Start(t)
			applied := make(chan struct{}, 2)
			srv.InjectFault(zendesktest.Fault{Kind: k.kind, Times: 2, Applied: applied})
			assert.Empty(t, applied)
			for i := range 2 {
				_, _ = rawCreate(ctx(t), srv, createBody, true)
				await(t, applied, "application "+strconv.Itoa(i+1))
			}
			notYet(t, applied, "a third value")
			if k.processed {
				assert.Len(t, srv.SentMessages(), 2)
			} else {
				assert.Empty(t, srv.SentMessages())
			}
		})
	}
}

// TestFaultAppliedNeverBlocks: a channel nobody reads costs the server
// nothing.
func TestFaultAppliedNeverBlocks(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	unread := make(chan struct{})
	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultStatus, Status: http.StatusConflict, Applied: unread})
	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultDelay, Applied: unread})
	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultLateCommit, Applied: unread})

	status, err := rawCreate(ctx(t), srv, createBody, true)
	require.NoError(t, err)
	assert.Equal(t, http.StatusConflict, status)
	status, err = rawCreate(ctx(t), srv, createBody, true)
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, status)
	status, err = rawCreate(ctx(t), srv, createBody, true)
	require.NoError(t, err)
	assert.Equal(t, http.StatusGatewayTimeout, status)
}

func TestFaultLateCommit(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	c := srv.Client(noWait())
	hold := make(chan struct{})
	applied := make(chan struct{}, 1)
	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultLateCommit, Method: "POST", Path: createPath,
		Delay: time.Hour, Hold: hold, Applied: applied})

	_, resp, err := c.SideConversations.Create(ctx(t), 1, emailCreate("late", "b", "x@example.com"))
	require.ErrorIs(t, err, zendesk.ErrMaybeSent, "a 504 to a POST is ambiguous")
	var apiErr *zendesk.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusGatewayTimeout, apiErr.StatusCode)
	assert.Equal(t, "GatewayTimeout", apiErr.Code, "a Zendesk-shaped body")
	assert.Equal(t, "Gateway Timeout", apiErr.Description)
	assert.NotEmpty(t, resp.RequestID)
	assert.Empty(t, resp.Header.Get("X-Rate-Limit-Remaining"), "answered before any rate limit")
	assert.Empty(t, srv.SentMessages(), "not processed yet")
	assert.Empty(t, srv.SideConversations(1))
	notYet(t, applied, "the processing")

	close(hold) // Hold replaces Delay: an hour would outlast the test
	await(t, applied, "the processing")
	sent := srv.SentMessages()
	require.Len(t, sent, 1, "the message went out after the gateway gave up")
	assert.Equal(t, "late", sent[0].Message.Subject)
	require.Len(t, srv.SideConversations(1), 1)
	assert.Len(t, srv.Requests(), 1, "recorded once, as it arrived")
}

func TestFaultLateCommitWithoutHold(t *testing.T) {
	t.Parallel()
	for _, delay := range []time.Duration{0, time.Millisecond} {
		t.Run(delay.String(), func(t *testing.T) {
			t.Parallel()
			srv := zendesktest.Start(t)
			applied := make(chan struct{}, 1)
			srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultLateCommit, Delay: delay, Applied: applied})
			status, err := rawCreate(ctx(t), srv, createBody, true)
			require.NoError(t, err)
			assert.Equal(t, http.StatusGatewayTimeout, status)
			await(t, applied, "the processing")
			assert.Len(t, srv.SentMessages(), 1)
		})
	}
}

func TestFaultLateCommitCustomAnswer(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	applied := make(chan struct{}, 1)
	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultLateCommit, Status: http.StatusBadGateway,
		RetryAfter: "3", Body: "upstream gave up", Applied: applied})
	a := post(t, srv, "/api/v2/tickets/1/side_conversations", createBody)
	assert.Equal(t, http.StatusBadGateway, a.Status)
	assert.Equal(t, "3", a.Header.Get("Retry-After"))
	assert.Equal(t, "text/plain; charset=utf-8", a.Header.Get("Content-Type"))
	assert.Equal(t, "upstream gave up", string(a.Body))
	assert.NotEmpty(t, a.Header.Get("X-Zendesk-Request-Id"))
	await(t, applied, "the processing")
	assert.Len(t, srv.SentMessages(), 1)
}

// TestFaultLateCommitProcessesLikeARequest: the late processing
// authenticates and validates as any request does; what it refuses has no
// effect.
func TestFaultLateCommitProcessesLikeARequest(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	c := srv.Client(noWait())
	sc := mustCreate(t, c, 1, "exists")
	applied := make(chan struct{}, 3)
	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultLateCommit, Times: 3, Applied: applied})

	status, err := rawCreate(ctx(t), srv, createBody, false)
	require.NoError(t, err)
	assert.Equal(t, http.StatusGatewayTimeout, status, "answered before authentication")
	await(t, applied, "the unauthenticated processing")

	status, err = rawCreate(ctx(t), srv, `{"message":{"body":"nobody to send to"}}`, true)
	require.NoError(t, err)
	assert.Equal(t, http.StatusGatewayTimeout, status)
	await(t, applied, "the invalid processing")

	// A reply through the client takes effect late.
	_, _, err = c.SideConversations.Reply(ctx(t), 1, sc.ID, zendesk.ReplyRequest{Message: zendesk.Message{
		Body: "late reply", To: []zendesk.Participant{zendesk.Email("x@example.com")},
	}})
	require.ErrorIs(t, err, zendesk.ErrMaybeSent)
	await(t, applied, "the reply")

	sent := srv.SentMessages()
	require.Len(t, sent, 2, "only the reply was sent besides the first message")
	assert.Equal(t, "late reply", sent[1].Message.Body)
	assert.Len(t, srv.SideConversations(1), 1)
	assert.Len(t, srv.Requests(), 4)
}

func TestCloseDropsPendingLateCommit(t *testing.T) {
	t.Parallel()
	srv := zendesktest.NewServer()
	hold := make(chan struct{})
	applied := make(chan struct{}, 1)
	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultLateCommit, Hold: hold, Applied: applied})
	status, err := rawCreate(ctx(t), srv, createBody, true)
	require.NoError(t, err)
	assert.Equal(t, http.StatusGatewayTimeout, status)

	srv.Close() // returns although Hold is still open
	close(hold)
	assert.Empty(t, srv.SentMessages(), "never processed")
	assert.Empty(t, srv.SideConversations(1))
	assert.Empty(t, applied)
	assert.Len(t, srv.Requests(), 1)
}
