package zendesk

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// ErrIdempotencyKeyReused is matched when an IdempotencyKey was used before
// for a different message: the message that carries it was made from
// another request. Nothing was sent. Use a new key for a new message.
var ErrIdempotencyKeyReused = errors.New("zendesk: the idempotency key was used before for a different message")

// keyedSend is a Create or Reply with an IdempotencyKey.
type keyedSend struct {
	key string
	// lock names the key's lock and record in the coordinator: keys are
	// scoped to the ticket (Create) or the side conversation (Reply),
	// which is where the lookup can find them.
	lock string
	// fingerprint identifies the request the key is used for.
	fingerprint string
	// find looks for the message carrying the key in Zendesk; nil when a
	// complete search found none.
	find func(ctx context.Context) (*keyMatch, error)
	// fetch gets the message a KeySent record names, or is nil when a
	// record cannot name it well enough (then find is used).
	fetch func(ctx context.Context, rec KeyRecord) (*keyMatch, error)
	// made names what a successful send made, for the record.
	made func(res *SideConversationResult) (conversationID, eventID string)
}

// keyMatch is a message found carrying a key.
type keyMatch struct {
	result      *SideConversationResult
	resp        *Response
	fingerprint string // "" when made by a version that stored none
	where       string // the conversation or event, for errors
}

// keyedCreate describes a keyed Create of req on ticketID.
func (s *SideConversationsService) keyedCreate(ticketID int64, req CreateRequest) *keyedSend {
	req.ExternalIDs = withoutKey(req.ExternalIDs)
	req.Message.AttachmentIDs = nil
	req.Message.ExternalIDs = withoutKey(req.Message.ExternalIDs)
	key := req.IdempotencyKey
	fetch := func(ctx context.Context, id string) (*keyMatch, error) {
		return s.fetchCreated(ctx, ticketID, id)
	}
	return &keyedSend{
		key:         key,
		lock:        "create/" + strconv.FormatInt(ticketID, 10) + "/" + key,
		fingerprint: fingerprintOf(req),
		find: func(ctx context.Context) (*keyMatch, error) {
			return s.findCreated(ctx, ticketID, key, fetch)
		},
		fetch: func(ctx context.Context, rec KeyRecord) (*keyMatch, error) {
			return fetch(ctx, rec.ConversationID)
		},
		made: func(res *SideConversationResult) (string, string) {
			return res.SideConversation.ID, res.Event.ID
		},
	}
}

// keyedReply describes a keyed Reply of req on conversation id of ticketID.
func (s *SideConversationsService) keyedReply(ticketID int64, id string, req ReplyRequest) *keyedSend {
	req.Message.AttachmentIDs = nil
	req.Message.ExternalIDs = withoutKey(req.Message.ExternalIDs)
	key := req.IdempotencyKey
	return &keyedSend{
		key:         key,
		lock:        "reply/" + strconv.FormatInt(ticketID, 10) + "/" + id + "/" + key,
		fingerprint: fingerprintOf(req.requestBody()),
		find: func(ctx context.Context) (*keyMatch, error) {
			return s.findReply(ctx, ticketID, id, key)
		},
		// There is no endpoint for one event: a reply is always looked up.
		made: func(res *SideConversationResult) (string, string) {
			return res.SideConversation.ID, res.Event.ID
		},
	}
}

// withoutKey returns ids without the key's entry, which a caller may have
// set to the key itself (validation refuses a fingerprint entry).
func withoutKey(ids map[string]string) map[string]string {
	if _, ok := ids[idempotencyKeyField]; !ok {
		return ids
	}
	out := make(map[string]string, len(ids))
	for k, v := range ids {
		if k != idempotencyKeyField {
			out[k] = v
		}
	}
	return out
}

// fingerprintOf hashes the JSON encoding of a request (whose maps encode
// with sorted keys, so equal requests hash alike). The version prefix lets
// a later encoding change its input without matching old fingerprints by
// accident.
func fingerprintOf(v any) string {
	// Request bodies always encode; jsonCall is about to encode this one.
	b, _ := json.Marshal(v) //nolint:errchkjson // see above
	h := sha256.New()
	h.Write([]byte("sideconv-fingerprint-v1\n"))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// sendKeyed sends a keyed Create or Reply so that at most one message
// exists per key; docs/IDEMPOTENCY.md gives the reasoning.
//
//  1. Take the key's lock: calls sharing the key run one at a time.
//  2. Look for the message (through what the record names, else in
//     Zendesk). Found: it is the result, or ErrIdempotencyKeyReused.
//  3. Not found, but the record says an earlier send made the message, or
//     may still make it (the record is younger than the settle time):
//     return ErrMaybeSent without sending.
//  4. Record the intent, which also checks that the lock still holds, and
//     send once.
//  5. After an ambiguous failure, look once more; not found: record the
//     send as unresolved and return ErrMaybeSent. Never resend here.
func (s *SideConversationsService) sendKeyed(ctx context.Context, cl *call, k *keyedSend) (*SideConversationResult, *Response, error) {
	if ctx == nil {
		return nil, nil, invalid("ctx", "is nil; pass context.Background() or a request context")
	}
	c := s.client
	lock, rec, err := c.coord.LockKey(ctx, c.account, k.lock)
	if err != nil {
		return nil, nil, &requestError{method: cl.method, url: cl.url, phase: "not sent: waiting for the idempotency key's lock", err: err}
	}
	defer lock.Unlock()
	if rec.State != "" && rec.Fingerprint != "" && rec.Fingerprint != k.fingerprint {
		return nil, nil, &keyReusedError{key: k.key, where: rec.ConversationID}
	}

	var m *keyMatch
	if rec.State == KeySent && rec.ConversationID != "" && k.fetch != nil {
		m, err = k.fetch(ctx, rec)
	} else {
		m, err = k.find(ctx)
	}
	if err != nil {
		return nil, nil, &lookupError{key: k.key, phase: "before sending", err: err}
	}
	if m != nil {
		return k.found(ctx, c, lock, m)
	}
	if until := rec.At.Add(c.settle); rec.State != "" && c.now().Before(until) {
		// A message recorded as sent that the lookup cannot see yet is
		// still sent; one that may still land is not sent again either.
		return nil, nil, &unresolvedError{method: cl.method, url: cl.url, key: k.key, since: rec.At, until: until, sent: rec.State == KeySent}
	}

	intent := KeyRecord{State: KeySending, Fingerprint: k.fingerprint, At: c.now(), TTL: c.settle}
	if err := lock.Record(ctx, intent); err != nil {
		return nil, nil, &requestError{method: cl.method, url: cl.url, phase: "not sent: recording the send", err: err}
	}
	res, resp, err := s.send(ctx, cl)
	switch {
	case err == nil:
		convID, eventID := k.made(res)
		c.record(ctx, lock, KeyRecord{State: KeySent, Fingerprint: k.fingerprint, At: c.now(),
			ConversationID: convID, EventID: eventID, TTL: c.settle})
		return res, resp, nil
	case !errors.Is(err, ErrMaybeSent):
		// Zendesk certainly did not make the message.
		c.record(ctx, lock, KeyRecord{})
		return nil, resp, err
	}

	m, ferr := k.find(ctx)
	if ferr == nil && m != nil {
		return k.found(ctx, c, lock, m)
	}
	c.record(ctx, lock, KeyRecord{State: KeyUnresolved, Fingerprint: k.fingerprint, At: c.now(), TTL: c.settle})
	c.logKey(ctx, "zendesk idempotency key unresolved", cl, k.key, err)
	if ferr != nil {
		return nil, resp, &lookupError{key: k.key, phase: "after a failure that may have reached Zendesk", err: ferr, sendErr: err}
	}
	return nil, resp, err
}

// found returns a message found carrying the key, after checking that it
// was made for this very request, and records it for the next callers.
func (k *keyedSend) found(ctx context.Context, c *Client, lock KeyLock, m *keyMatch) (*SideConversationResult, *Response, error) {
	if m.fingerprint != "" && m.fingerprint != k.fingerprint {
		return nil, m.resp, &keyReusedError{key: k.key, where: m.where}
	}
	convID, eventID := k.made(m.result)
	c.record(ctx, lock, KeyRecord{State: KeySent, Fingerprint: k.fingerprint, At: c.now(),
		ConversationID: convID, EventID: eventID, TTL: c.settle})
	c.logKey(ctx, "zendesk idempotency key found", nil, k.key, nil)
	m.resp.FoundByIdempotencyKey = true
	return m.result, m.resp, nil
}

// record stores an outcome under a held lock. A failure is logged, not
// returned: the message's fate is settled, and a later caller that finds
// no usable record looks the key up in Zendesk. The outcome is recorded
// also when the caller's context has ended (a timeout is a usual reason to
// be here): a coordinator bounds its own round trips.
func (c *Client) record(ctx context.Context, lock KeyLock, rec KeyRecord) {
	ctx = context.WithoutCancel(ctx)
	if err := lock.Record(ctx, rec); err != nil && c.logger != nil {
		c.logger.WarnContext(ctx, "zendesk: recording an idempotency key's outcome failed", "state", string(rec.State), "error", err.Error())
	}
}

// logKey writes a debug line about a keyed send: found by its key, or
// left unresolved after a failure.
func (c *Client) logKey(ctx context.Context, msg string, cl *call, key string, err error) {
	if c.logger == nil || !c.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{slog.String("idempotency_key", key)}
	if cl != nil {
		attrs = append(attrs, slog.String("method", cl.method), slog.String("url", cl.url))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	c.logger.LogAttrs(ctx, slog.LevelDebug, msg, attrs...)
}

// findCreated looks for the conversation of ticketID that carries key: it
// lists the conversations without their events and stops at the first
// match, which fetch then gets with its events.
func (s *SideConversationsService) findCreated(ctx context.Context, ticketID int64, key string, fetch func(context.Context, string) (*keyMatch, error)) (*keyMatch, error) {
	q := url.Values{"per_page": {strconv.Itoa(MaxPerPage)}}
	first := &call{method: http.MethodGet, url: s.client.conversationsURL(ticketID, "", q)}
	var id string
	err := eachPage(ctx, s.client, first, s.listPage, func(convs []SideConversation, _ *Response) bool {
		for _, sc := range convs {
			if sc.ExternalIDs[idempotencyKeyField] == key {
				id = sc.ID
				return false
			}
		}
		return true
	})
	if err != nil || id == "" {
		return nil, err
	}
	return fetch(ctx, id)
}

// fetchCreated gets conversation id with its events, as the result of the
// Create that made it.
func (s *SideConversationsService) fetchCreated(ctx context.Context, ticketID int64, id string) (*keyMatch, error) {
	sc, resp, err := s.Show(ctx, ticketID, id, &ShowOptions{IncludeEvents: true})
	if err != nil {
		return nil, err
	}
	res := &SideConversationResult{SideConversation: *sc}
	for _, ev := range sc.Events {
		if ev.Type == EventCreate {
			res.Event = ev
			break
		}
	}
	return &keyMatch{result: res, resp: resp, fingerprint: sc.ExternalIDs[fingerprintField], where: "side conversation " + sc.ID}, nil
}

// findReply looks for the event of a conversation whose message carries
// key, and returns it with the conversation as it is now.
func (s *SideConversationsService) findReply(ctx context.Context, ticketID int64, id, key string) (*keyMatch, error) {
	first, err := s.listEventsCall(ticketID, id, &ListOptions{PerPage: MaxPerPage})
	if err != nil {
		return nil, err
	}
	var found *Event
	err = eachPage(ctx, s.client, first, s.eventsPage, func(events []Event, _ *Response) bool {
		for i, ev := range events {
			if ev.Message != nil && ev.Message.ExternalIDs[idempotencyKeyField] == key {
				found = &events[i]
				return false
			}
		}
		return true
	})
	if err != nil || found == nil {
		return nil, err
	}
	sc, resp, err := s.Show(ctx, ticketID, id, nil)
	if err != nil {
		return nil, err
	}
	return &keyMatch{
		result:      &SideConversationResult{Event: *found, SideConversation: *sc},
		resp:        resp,
		fingerprint: found.Message.ExternalIDs[fingerprintField],
		where:       "event " + found.ID + " of side conversation " + id,
	}, nil
}

// keyReusedError is a key found on a message made from another request.
type keyReusedError struct {
	key, where string
}

func (e *keyReusedError) Error() string {
	msg := "zendesk: idempotency key " + strconv.Quote(e.key) + " was used before for a different message"
	if e.where != "" {
		msg += " (" + e.where + ")"
	}
	return msg + "; nothing was sent: use a new key for a new message"
}

func (e *keyReusedError) Unwrap() error { return ErrIdempotencyKeyReused }

// unresolvedError refuses to send while an earlier send with the key may
// still take effect.
type unresolvedError struct {
	method, url, key string
	since, until     time.Time
	// sent: the send was recorded as made, but a lookup does not see its
	// message yet.
	sent bool
}

func (e *unresolvedError) Error() string {
	what := "may still take effect, and no lookup has found its message"
	if e.sent {
		what = "made its message, but a lookup does not find it yet"
	}
	return fmt.Sprintf("zendesk: %s %s: a send with idempotency key %q at %s %s; "+
		"not sent again before %s (the settle time): call again later",
		e.method, e.url, e.key, e.since.UTC().Format(time.RFC3339), what, e.until.UTC().Format(time.RFC3339))
}

// Unwrap returns ErrMaybeSent: the message may exist.
func (e *unresolvedError) Unwrap() error { return ErrMaybeSent }

// lookupError reports an idempotency-key lookup that could not finish.
// After an ambiguous failure it also matches ErrMaybeSent and the send's
// error.
type lookupError struct {
	key     string
	phase   string
	err     error
	sendErr error
}

func (e *lookupError) Error() string {
	msg := "zendesk: looking up idempotency key " + strconv.Quote(e.key) + " " + e.phase + " failed: " + e.err.Error()
	if e.sendErr != nil {
		return msg + "; the send failed with: " + e.sendErr.Error()
	}
	return msg + "; nothing was sent"
}

func (e *lookupError) Unwrap() []error {
	if e.sendErr != nil {
		return []error{e.err, e.sendErr}
	}
	return []error{e.err}
}
