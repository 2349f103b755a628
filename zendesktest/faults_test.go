package zendesktest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	zendesk "github.com/sideconv/zendesk"
	"github.com/sideconv/zendesk/zendesktest"
)

const createPath = "/api/v2/tickets/*/side_conversations"

// freshConnections is a client option whose every request opens its own
// connection, so that net/http never replays a GET on a reused one by
// itself.
func freshConnections() zendesk.Option {
	return zendesk.WithHTTPClient(&http.Client{Transport: &http.Transport{DisableKeepAlives: true}})
}

func TestFaultStatus(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	c := srv.Client(noWait())

	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultStatus, Method: "POST", Path: createPath})
	_, resp, err := c.SideConversations.Create(ctx(t), 1, emailCreate("s", "b", "x@example.com"))
	require.ErrorIs(t, err, zendesk.ErrServer)
	require.ErrorIs(t, err, zendesk.ErrMaybeSent, "a 500 to a POST is ambiguous for the client")
	var apiErr *zendesk.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusInternalServerError, apiErr.StatusCode)
	assert.Equal(t, "InternalServerError", apiErr.Code, "a Zendesk-shaped body")
	assert.NotEmpty(t, resp.RequestID)
	assert.Empty(t, srv.SentMessages(), "not processed")
	assert.Empty(t, srv.SideConversations(1))
	require.Len(t, srv.Requests(), 1, "recorded, and a POST is not resent")

	// Consumed: the next one goes through.
	mustCreate(t, c, 1, "after the fault")

	// 503 with Retry-After means "rolled back, try again": the client does,
	// and Times counts the matching requests.
	srv.ResetRequests()
	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultStatus, Path: createPath, Times: 2,
		Status: http.StatusServiceUnavailable, RetryAfter: "1"})
	_, resp, err = c.SideConversations.Create(ctx(t), 1, emailCreate("s", "b", "x@example.com"))
	require.NoError(t, err)
	assert.Equal(t, 3, resp.Attempts)
	assert.Len(t, srv.Requests(), 3)
	assert.Len(t, srv.SentMessages(), 2)

	// A custom body, sent as text when it is not JSON.
	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultStatus, Status: http.StatusTooManyRequests,
		RetryAfter: "7", Body: "Too many requests, slow down"})
	a := get(t, srv, "/api/v2/tickets/1/side_conversations")
	assert.Equal(t, http.StatusTooManyRequests, a.Status)
	assert.Equal(t, "7", a.Header.Get("Retry-After"))
	assert.Equal(t, "text/plain; charset=utf-8", a.Header.Get("Content-Type"))
	assert.Equal(t, "Too many requests, slow down", string(a.Body))

	// Faults come before authentication.
	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultStatus, Status: http.StatusBadGateway})
	a = call(t, srv, http.MethodGet, "/api/v2/tickets/1/side_conversations", nil, http.Header{"Authorization": {""}})
	m := assertZendeskError(t, a, http.StatusBadGateway, "BadGateway")
	assert.Equal(t, "Bad Gateway", m["description"])
}

func TestFaultMatchingAndOrder(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t, zendesktest.WithTickets(1, 2))
	list1 := "/api/v2/tickets/1/side_conversations"

	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultStatus, Path: "/api/v2/tickets/2/side_conversations", Status: 418})
	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultStatus, Method: "PUT", Status: 409})
	assert.Equal(t, http.StatusOK, get(t, srv, list1).Status, "neither matches")
	assert.Equal(t, 418, get(t, srv, "/api/v2/tickets/2/side_conversations").Status)
	assert.Equal(t, http.StatusOK, get(t, srv, "/api/v2/tickets/2/side_conversations").Status, "used up")
	assert.Equal(t, 409, call(t, srv, http.MethodPut, list1+"/any", []byte(`{}`), nil).Status)

	// In order of injection.
	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultStatus, Status: 500})
	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultHTMLBody, Status: 502})
	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultStatus, Status: 504})
	for _, want := range []int{500, 502, 504, 200} {
		assert.Equal(t, want, get(t, srv, list1).Status)
	}

	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultStatus, Times: 5})
	srv.ClearFaults()
	assert.Equal(t, http.StatusOK, get(t, srv, list1).Status, "cleared")
}

func TestFaultDropBeforeProcessing(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	c := srv.Client(noWait())

	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultDropBeforeProcessing, Method: "POST"})
	_, _, err := c.SideConversations.Create(ctx(t), 1, emailCreate("lost", "b", "x@example.com"))
	require.Error(t, err)
	assert.ErrorIs(t, err, zendesk.ErrMaybeSent, "the client cannot tell")
	assert.Len(t, srv.Requests(), 1)
	assert.Empty(t, srv.SentMessages(), "the request was lost")
	assert.Empty(t, srv.SideConversations(1))

	// A GET is retried by the client and then succeeds.
	c = srv.Client(noWait(), freshConnections())
	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultDropBeforeProcessing, Method: "GET"})
	_, resp, err := c.SideConversations.List(ctx(t), 1, nil)
	require.NoError(t, err)
	assert.Equal(t, 2, resp.Attempts)
}

func TestFaultDropAfterProcessing(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	c := srv.Client(noWait())
	sc := mustCreate(t, c, 1, "exists")

	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultDropAfterProcessing, Path: createPath + "/*/reply"})
	_, _, err := c.SideConversations.Reply(ctx(t), 1, sc.ID, zendesk.ReplyRequest{Message: zendesk.Message{
		Body: "sent, but nobody knows", To: []zendesk.Participant{zendesk.Email("x@example.com")},
	}})
	require.ErrorIs(t, err, zendesk.ErrMaybeSent)
	sent := srv.SentMessages()
	require.Len(t, sent, 2, "processed: the reply went out")
	assert.Equal(t, "sent, but nobody knows", sent[1].Message.Body)
	assert.Len(t, srv.Events(1, sc.ID), 2)
	assert.Len(t, srv.Requests(), 2, "not resent")
}

func TestFaultTruncatedBody(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	c := srv.Client(noWait())
	mustCreate(t, c, 1, "one")
	full := get(t, srv, "/api/v2/tickets/1/side_conversations")
	require.Equal(t, http.StatusOK, full.Status)

	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultTruncatedBody})
	req, err := http.NewRequestWithContext(ctx(t), http.MethodGet, srv.URL()+"/api/v2/tickets/1/side_conversations", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", basicAuth())
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, int64(len(full.Body)), resp.ContentLength, "the full length is announced")
	assert.NotEmpty(t, resp.Header.Get("X-Zendesk-Request-Id"))
	got, err := io.ReadAll(resp.Body)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Equal(t, full.Body[:len(full.Body)/2], got, "the first half")

	// Through the client: the POST took effect, the answer is unusable.
	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultTruncatedBody, Method: "POST"})
	_, _, err = c.SideConversations.Create(ctx(t), 1, emailCreate("two", "b", "x@example.com"))
	require.ErrorIs(t, err, zendesk.ErrMaybeSent)
	assert.Len(t, srv.SentMessages(), 2)
	assert.Len(t, srv.SideConversations(1), 2)
}

func TestFaultHTMLBody(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	c := srv.Client(noWait())

	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultHTMLBody, Method: "POST"})
	_, _, err := c.SideConversations.Create(ctx(t), 1, emailCreate("s", "b", "x@example.com"))
	var apiErr *zendesk.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusBadGateway, apiErr.StatusCode)
	assert.Contains(t, string(apiErr.Body), "<html>")
	assert.Empty(t, apiErr.Code)
	assert.Empty(t, srv.SentMessages(), "not processed")

	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultHTMLBody, Status: http.StatusServiceUnavailable, RetryAfter: "30"})
	a := get(t, srv, "/api/v2/tickets/1/side_conversations")
	assert.Equal(t, http.StatusServiceUnavailable, a.Status)
	assert.Equal(t, "text/html; charset=utf-8", a.Header.Get("Content-Type"))
	assert.Equal(t, "30", a.Header.Get("Retry-After"))
	assert.True(t, strings.HasPrefix(string(a.Body), "<!DOCTYPE html>"), "%s", a.Body)
	assert.Contains(t, string(a.Body), "503 Service Unavailable")
}

func TestFaultEmptyBody(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	c := srv.Client(noWait())

	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultEmptyBody, Method: "POST"})
	a := post(t, srv, "/api/v2/tickets/1/side_conversations", `{"message":{"body":"b","to":[{"email":"x@example.com"}]}}`)
	assert.Equal(t, http.StatusCreated, a.Status, "the real status")
	assert.Empty(t, a.Body)
	assert.Len(t, srv.SentMessages(), 1, "processed")

	// The client retries a read whose body came empty; every attempt gets one.
	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultEmptyBody, Times: 10})
	_, resp, err := c.SideConversations.List(ctx(t), 1, nil)
	require.ErrorIs(t, err, zendesk.ErrInvalidResponse)
	assert.Equal(t, 4, resp.Attempts)
}

func TestFaultWrongTypes(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	c := srv.Client(noWait())
	sc := mustCreate(t, c, 1, "typed")

	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultWrongTypes, Times: 4})
	m := get(t, srv, "/api/v2/tickets/1/side_conversations").JSON(t)
	assert.ElementsMatch(t, []string{"side_conversations", "next_page", "previous_page", "count"}, keys(m), "the envelope keys stay")
	first := m["side_conversations"].([]any)[0].(map[string]any)
	assert.Equal(t, float64(12345), first["id"])
	assert.Equal(t, "x", first["participants"])

	_, _, err := c.SideConversations.Show(ctx(t), 1, sc.ID, nil)
	require.ErrorIs(t, err, zendesk.ErrInvalidResponse)
	_, _, err = c.SideConversations.Create(ctx(t), 1, emailCreate("s", "b", "x@example.com"))
	require.ErrorIs(t, err, zendesk.ErrInvalidResponse)
	require.ErrorIs(t, err, zendesk.ErrMaybeSent)
	assert.Len(t, srv.SentMessages(), 2, "processed")

	// Error answers are left alone.
	a := get(t, srv, "/api/v2/tickets/1/side_conversations/unknown")
	assertZendeskError(t, a, http.StatusNotFound, "RecordNotFound")
}

func TestFaultDelay(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	c := srv.Client(noWait())

	// Without a Hold the answer comes after Delay.
	applied := make(chan struct{}, 1)
	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultDelay, Method: "GET", Delay: time.Millisecond, Applied: applied})
	_, _, err := c.SideConversations.List(ctx(t), 1, nil)
	require.NoError(t, err)
	await(t, applied, "the delay")

	// A client that gives up before Delay is over: the request was
	// processed all the same, and the wait ends.
	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultDelay, Method: "POST", Delay: time.Hour, Applied: applied})
	callCtx, cancel := context.WithCancel(ctx(t))
	done := make(chan error, 1)
	go func() {
		_, _, err := c.SideConversations.Create(callCtx, 1, emailCreate("slow", "b", "x@example.com"))
		done <- err
	}()
	await(t, applied, "holding the answer")
	cancel()
	err = await(t, done, "the call to end")
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.Canceled) || errors.Is(err, zendesk.ErrMaybeSent), "%v", err)
	assert.Len(t, srv.SideConversations(1), 1, "processed before the wait")
	assert.Len(t, srv.SentMessages(), 1)
}

func TestCloseEndsDelay(t *testing.T) {
	t.Parallel()
	srv := zendesktest.NewServer()
	applied := make(chan struct{}, 1)
	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultDelay, Delay: time.Hour, Applied: applied})
	done := make(chan error, 1)
	go func() {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL()+"/api/v2/tickets/1/side_conversations", nil)
		if err != nil {
			done <- err
			return
		}
		req.Header.Set("Authorization", basicAuth())
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			err = errors.New("answered with " + strconv.Itoa(resp.StatusCode))
		}
		done <- err
	}()
	await(t, applied, "holding the answer")

	closed := make(chan struct{})
	go func() {
		srv.Close()
		srv.Close() // twice is fine
		close(closed)
	}()
	await(t, closed, "Close to return before the delay is over")
	err := await(t, done, "the request to end")
	assert.NotContains(t, err.Error(), "answered with", "the connection is cut, not answered")
}
