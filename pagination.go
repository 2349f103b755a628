package zendesk

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// offsetLimitError explains a 400 answer to a page that starts past
// Zendesk's 10,000-record offset limit, which Zendesk reports tersely.
func offsetLimitError(cl *call, err error) error {
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest || cl.method != http.MethodGet {
		return err
	}
	u, perr := url.Parse(cl.url)
	if perr != nil {
		return err
	}
	q := u.Query()
	page, _ := strconv.Atoi(q.Get("page"))
	perPage, _ := strconv.Atoi(q.Get("per_page"))
	if perPage <= 0 {
		perPage = defaultPerPage
	}
	if page <= 1 || !pastOffsetLimit(page, perPage) {
		return err
	}
	return &OffsetLimitError{APIError: apiErr, Page: page, PerPage: perPage}
}

// OffsetLimitError is returned when Zendesk refuses a page that starts past
// the 10,000th record: offset pagination cannot go deeper. It wraps the
// *APIError Zendesk answered with.
type OffsetLimitError struct {
	*APIError
	Page, PerPage int
}

// Error explains the limit after Zendesk's answer.
func (e *OffsetLimitError) Error() string {
	return e.APIError.Error() + ": page " + strconv.Itoa(e.Page) + " of " + strconv.Itoa(e.PerPage) +
		" starts past record " + strconv.Itoa(offsetLimit) +
		", and Zendesk refuses offset pagination beyond 10,000 records; narrow the query instead of paging deeper"
}

// Unwrap returns the *APIError.
func (e *OffsetLimitError) Unwrap() error { return e.APIError }

// MaxCarriedEvents bounds the sideloaded events ListIter keeps from page to
// page while it waits for their side conversation to appear on a later
// page.
const MaxCarriedEvents = 10000

// ListIter returns an iterator over every side conversation of a ticket. It
// fetches lazily: nothing is requested before the first iteration, and no
// further page after the loop breaks. It follows next_page exactly as
// Zendesk gives it, until it is null. An error (invalid options, an API
// error, a next_page on another host) is yielded once, and the iteration
// ends.
//
// With opts.IncludeEvents each conversation carries its events. A
// sideloaded event whose conversation is not on its page is kept and
// attached when the conversation shows up on a later page. At most
// MaxCarriedEvents events are kept this way: when a page brings more, the
// events kept longest are dropped, oldest page first, and a conversation
// that shows up after its events were dropped carries only the events of
// its own page and those still kept, still oldest first. Nothing else
// signals the loss; use ListEvents or Show with IncludeEvents for all the
// events of such a conversation. Zendesk sideloads the events of the
// conversations on the same page, so none of this happens against Zendesk
// itself.
func (s *SideConversationsService) ListIter(ctx context.Context, ticketID int64, opts *ListOptions) iter.Seq2[SideConversation, error] {
	return s.listIter(ctx, ticketID, opts, MaxCarriedEvents, nil)
}

// listIter is ListIter keeping at most limit events for later pages; a
// non-nil carry receives the carry the walk uses, for tests to inspect.
func (s *SideConversationsService) listIter(ctx context.Context, ticketID int64, opts *ListOptions, limit int, carry **eventCarry) iter.Seq2[SideConversation, error] {
	return func(yield func(SideConversation, error) bool) {
		if err := checkTicketID(ticketID); err != nil {
			yield(SideConversation{}, err)
			return
		}
		if err := opts.Validate(); err != nil {
			yield(SideConversation{}, err)
			return
		}
		q, err := opts.values()
		if err != nil {
			yield(SideConversation{}, err)
			return
		}
		carried := newEventCarry(limit)
		if carry != nil {
			*carry = carried
		}
		fetch := func(ctx context.Context, cl *call) ([]SideConversation, *Response, error) {
			convs, resp, err := s.listPage(ctx, cl)
			if err != nil {
				return nil, resp, err
			}
			carried.attach(convs)
			carried.add(resp.UnmatchedEvents)
			return convs, resp, nil
		}
		first := &call{method: http.MethodGet, url: s.client.endpoint(conversationsPath(ticketID), q)}
		walkPages(ctx, s.client, first, fetch, yield)
	}
}

// eventCarry keeps sideloaded events for the conversations that have not
// appeared yet, by conversation id, so that a page costs time in
// proportion to its own size, however many events are kept. It keeps at
// most limit events, dropping the ones kept longest.
type eventCarry struct {
	limit  int
	byConv map[string][]*carriedEvent
	// queue holds the kept events in the order they came, and the
	// attached ones until they are skipped or compacted away.
	queue []*carriedEvent
	head  int // queue[head:] is pending
	kept  int // events in byConv

	// For tests: events dropped, the most ever kept, and the steps taken
	// over events (added, attached, dropped, skipped or compacted).
	dropped, peak, steps int
}

type carriedEvent struct {
	ev       Event
	attached bool
}

func newEventCarry(limit int) *eventCarry {
	return &eventCarry{limit: max(limit, 0), byConv: make(map[string][]*carriedEvent)}
}

// attach hands the conversations of a page the events kept for them, and
// forgets those.
func (c *eventCarry) attach(convs []SideConversation) {
	for i := range convs {
		if c.kept == 0 {
			break
		}
		kept, ok := c.byConv[convs[i].ID]
		if !ok {
			continue
		}
		delete(c.byConv, convs[i].ID)
		for _, k := range kept {
			convs[i].Events = append(convs[i].Events, k.ev)
			k.ev, k.attached = Event{}, true
		}
		c.kept -= len(kept)
		c.steps += len(kept)
		sortEvents(convs[i].Events)
	}
	c.compact()
}

// add keeps events for later pages, dropping the events kept longest once
// more than limit are kept.
func (c *eventCarry) add(events []Event) {
	for _, ev := range events {
		k := &carriedEvent{ev: ev}
		c.byConv[ev.SideConversationID] = append(c.byConv[ev.SideConversationID], k)
		c.queue = append(c.queue, k)
		c.kept++
		c.steps++
	}
	for c.kept > c.limit {
		k := c.queue[c.head]
		c.queue[c.head] = nil
		c.head++
		c.steps++
		if k.attached {
			continue
		}
		// The oldest pending event is the first kept for its
		// conversation: each conversation's events are kept in the
		// order they came.
		id := k.ev.SideConversationID
		kept := c.byConv[id]
		kept[0] = nil
		if len(kept) == 1 {
			delete(c.byConv, id)
		} else {
			c.byConv[id] = kept[1:]
		}
		k.ev = Event{}
		c.kept--
		c.dropped++
	}
	c.peak = max(c.peak, c.kept)
	c.compact()
}

// compact rebuilds the queue from the events still kept once attached
// events make up more than half of its pending part, or dropped ones more
// than half of the whole, so that the queue stays within a few times the
// events kept and each event is visited a bounded number of times.
func (c *eventCarry) compact() {
	pending := len(c.queue) - c.head
	if pending <= 2*c.kept+64 && c.head <= pending+64 {
		return
	}
	live := c.queue[:0]
	for _, k := range c.queue[c.head:] {
		c.steps++
		if !k.attached {
			live = append(live, k)
		}
	}
	clear(c.queue[len(live):])
	c.queue, c.head = live, 0
}

// walkPages yields the items of the page cl asks for and of every page
// after it, until next_page is empty, the consumer stops, or an error, which
// is yielded once.
func walkPages[T any](ctx context.Context, c *Client, cl *call, fetch func(context.Context, *call) ([]T, *Response, error), yield func(T, error) bool) {
	err := eachPage(ctx, c, cl, fetch, func(items []T, _ *Response) bool {
		for _, item := range items {
			if !yield(item, nil) {
				return false
			}
		}
		return true
	})
	if err != nil {
		var zero T
		yield(zero, err)
	}
}

// eachPage fetches the page cl asks for and every page after it, handing
// each to visit until visit returns false or next_page is empty. Links are
// checked with followable, and a link seen before ends the walk with an
// error instead of a loop.
func eachPage[T any](ctx context.Context, c *Client, cl *call, fetch func(context.Context, *call) ([]T, *Response, error), visit func([]T, *Response) bool) error {
	// Pages visited, by hash: a walk of thousands of pages keeps a few
	// bytes per page, not its URL.
	seed := maphash.MakeSeed()
	visited := map[uint64]struct{}{maphash.String(seed, cl.url): {}}
	for {
		items, resp, err := fetch(ctx, cl)
		if err != nil {
			return err
		}
		if !visit(items, resp) || resp.NextPage == "" {
			return nil
		}
		next, err := c.followable(resp.NextPage, cl.url)
		if err != nil {
			return err
		}
		h := maphash.String(seed, next)
		if _, seen := visited[h]; seen {
			return fmt.Errorf("%w: next_page %s was already visited; stopping instead of looping", ErrInvalidResponse, next)
		}
		visited[h] = struct{}{}
		cl = &call{method: http.MethodGet, url: next}
	}
}

// followable checks a pagination link before it is requested with the
// client's credentials: it must lead to the API root of the client's own
// scheme and host. A relative link is resolved against the API root.
func (c *Client) followable(link, from string) (string, error) {
	u, err := url.Parse(link)
	if err != nil {
		return "", fmt.Errorf("%w: the next_page %q of %s is not a URL: %w", ErrInvalidResponse, link, from, err)
	}
	if !u.IsAbs() {
		u = c.apiRoot.ResolveReference(u)
	}
	if !c.underAPIRoot(u) {
		return "", &ForeignPageError{Link: u.Redacted(), APIRoot: c.apiRootStr}
	}
	return u.String(), nil
}

// underAPIRoot reports whether an absolute URL is on the client's scheme
// and host, under its API root: the only place it sends credentials to. A
// dot segment, even percent-encoded, could be normalized by a server into
// a path outside the API root.
func (c *Client) underAPIRoot(u *url.URL) bool {
	return u.User == nil && c.sameOrigin(u) && strings.HasPrefix(u.EscapedPath(), c.apiRoot.EscapedPath()) && !hasDotSegment(u.Path)
}

func hasDotSegment(p string) bool {
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// ForeignPageError is yielded when a response's next_page leads away from
// the client's API root (another scheme, host or path). The link is not
// followed, so the client's credentials never leave for another host.
type ForeignPageError struct {
	Link    string
	APIRoot string
}

// Error names the refused link and where the client sends credentials.
func (e *ForeignPageError) Error() string {
	return "zendesk: refusing to follow next_page " + e.Link + ": it is not under " + e.APIRoot +
		", and the client sends its credentials only there"
}

// Unwrap returns ErrInvalidResponse.
func (e *ForeignPageError) Unwrap() error { return ErrInvalidResponse }
