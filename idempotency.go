package zendesk

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
)

// lookup finds what an earlier send with the same idempotency key made. It
// returns a nil result, and no error, when a complete search found nothing.
type lookup func(ctx context.Context) (*SideConversationResult, *Response, error)

// sendOnce sends a keyed Create or Reply so that at most one message exists
// per key: it returns what an earlier call made, sends, and after a failure
// that may have reached Zendesk looks again before sending a second and
// last time.
func (s *SideConversationsService) sendOnce(ctx context.Context, cl *call, find lookup) (*SideConversationResult, *Response, error) {
	found, resp, err := find(ctx)
	if err != nil {
		return nil, resp, &lookupError{phase: "before sending", err: err}
	}
	if found != nil {
		resp.FoundByIdempotencyKey = true
		return found, resp, nil
	}
	for sent := 1; ; sent++ {
		res, resp, err := s.send(ctx, cl)
		if err == nil || !errors.Is(err, ErrMaybeSent) || ctx.Err() != nil {
			return res, resp, err
		}
		found, fresp, ferr := find(ctx)
		switch {
		case ferr != nil:
			return nil, resp, &lookupError{phase: "after an ambiguous failure", err: ferr, sendErr: err}
		case found != nil:
			fresp.FoundByIdempotencyKey = true
			return found, fresp, nil
		case sent == 2:
			return nil, resp, err
		}
		s.client.logRecovery(ctx, cl, err)
	}
}

// lookupError reports an idempotency-key lookup that could not finish. After
// an ambiguous failure it also matches ErrMaybeSent and the send's error.
type lookupError struct {
	phase   string
	err     error
	sendErr error
}

func (e *lookupError) Error() string {
	var b strings.Builder
	b.WriteString("zendesk: looking up the idempotency key ")
	b.WriteString(e.phase)
	b.WriteString(" failed: ")
	b.WriteString(e.err.Error())
	if e.sendErr != nil {
		b.WriteString("; the send failed with: ")
		b.WriteString(e.sendErr.Error())
	} else {
		b.WriteString("; nothing was sent")
	}
	return b.String()
}

func (e *lookupError) Unwrap() []error {
	if e.sendErr != nil {
		return []error{e.err, e.sendErr}
	}
	return []error{e.err}
}

// findCreated looks for the conversation of ticketID that carries key.
func (s *SideConversationsService) findCreated(ctx context.Context, ticketID int64, key string) (*SideConversationResult, *Response, error) {
	q, _ := (&ListOptions{PerPage: MaxPerPage, IncludeEvents: true}).values()
	first := &call{method: http.MethodGet, url: s.client.endpoint(conversationsPath(ticketID), q)}
	var found *SideConversationResult
	var last *Response
	err := eachPage(ctx, s.client, first, s.listPage, func(convs []SideConversation, resp *Response) bool {
		last = resp
		for _, sc := range convs {
			if sc.ExternalIDs[idempotencyKeyField] != key {
				continue
			}
			found = &SideConversationResult{SideConversation: sc}
			for _, ev := range sc.Events {
				if ev.Type == EventCreate {
					found.Event = ev
					break
				}
			}
			return false
		}
		return true
	})
	if err != nil {
		return nil, last, err
	}
	return found, last, nil
}

// findReply looks for the event of a conversation whose message carries key,
// and returns it with the conversation as it is now.
func (s *SideConversationsService) findReply(ctx context.Context, ticketID int64, id, key string) (*SideConversationResult, *Response, error) {
	first, err := s.listEventsCall(ticketID, id, &ListOptions{PerPage: MaxPerPage})
	if err != nil {
		return nil, nil, err
	}
	var found *Event
	var last *Response
	err = eachPage(ctx, s.client, first, s.eventsPage, func(events []Event, resp *Response) bool {
		last = resp
		for i, ev := range events {
			if ev.Message != nil && ev.Message.ExternalIDs[idempotencyKeyField] == key {
				found = &events[i]
				return false
			}
		}
		return true
	})
	if err != nil || found == nil {
		return nil, last, err
	}
	sc, resp, err := s.Show(ctx, ticketID, id, nil)
	if err != nil {
		return nil, resp, err
	}
	return &SideConversationResult{Event: *found, SideConversation: *sc}, resp, nil
}

func (c *Client) logRecovery(ctx context.Context, cl *call, err error) {
	if c.logger == nil || !c.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	c.logger.LogAttrs(ctx, slog.LevelDebug, "zendesk resend",
		slog.String("method", cl.method), slog.String("url", cl.url),
		slog.String("reason", "idempotency key not found after an ambiguous failure"),
		slog.String("error", err.Error()))
}
