package zendesk

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// EventType is the kind of a side conversation event. The set is open:
// values this package does not name decode and pass through unchanged.
type EventType string

// Event types Zendesk documents.
const (
	EventCreate    EventType = "create"
	EventReply     EventType = "reply"
	EventUpdate    EventType = "update"
	EventAddEntity EventType = "add-entity"
)

// Event is one entry of a side conversation's history: its creation, a
// reply, or an update of its state or subject. It decodes as tolerantly as
// SideConversation.
type Event struct {
	ID                 string `json:"id"`
	SideConversationID string `json:"side_conversation_id,omitempty"`
	// TicketID is the parent ticket; Zendesk may send null, decoded as 0.
	TicketID  int64       `json:"ticket_id,omitempty"`
	Type      EventType   `json:"type"`
	Via       string      `json:"via,omitempty"`
	URL       string      `json:"url,omitempty"`
	Actor     Participant `json:"actor,omitzero"`
	CreatedAt time.Time   `json:"created_at,omitzero"`
	// Message is set for create and reply events.
	Message *Message `json:"message,omitempty"`
	// Updates is set for update events.
	Updates Updates `json:"updates,omitzero"`
}

// Updates lists what an update changed. Zendesk sends {} when nothing did.
type Updates struct {
	State   State  `json:"state,omitempty"`
	Subject string `json:"subject,omitempty"`
}

// ListEvents returns one page of the events of a side conversation: its
// creation, replies and updates. opts.IncludeEvents is ignored.
func (s *SideConversationsService) ListEvents(ctx context.Context, ticketID int64, id string, opts *ListOptions) ([]Event, *Response, error) {
	cl, err := s.listEventsCall(ticketID, id, opts)
	if err != nil {
		return nil, nil, err
	}
	return s.eventsPage(ctx, cl)
}

func (s *SideConversationsService) listEventsCall(ticketID int64, id string, opts *ListOptions) (*call, error) {
	if err := checkPath(ticketID, id); err != nil {
		return nil, err
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	var page ListOptions
	if opts != nil {
		page = ListOptions{Page: opts.Page, PerPage: opts.PerPage}
	}
	q, err := page.values()
	if err != nil {
		return nil, err
	}
	return &call{method: http.MethodGet, url: s.client.conversationURL(ticketID, id, "/events", q)}, nil
}

func (s *SideConversationsService) eventsPage(ctx context.Context, cl *call) ([]Event, *Response, error) {
	var page eventsAnswer
	resp, err := s.client.do(ctx, cl, &page)
	if err != nil {
		return nil, resp, offsetLimitError(cl, err)
	}
	return page.events, resp, nil
}

// ListEventsIter returns an iterator over every event of a side
// conversation, fetching pages lazily; see ListIter for its rules.
func (s *SideConversationsService) ListEventsIter(ctx context.Context, ticketID int64, id string, opts *ListOptions) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		cl, err := s.listEventsCall(ticketID, id, opts)
		if err != nil {
			yield(Event{}, err)
			return
		}
		walkPages(ctx, s.client, cl, s.eventsPage, yield)
	}
}

// IncrementalEvents returns an iterator over the side conversation events of
// every ticket created at or after start, oldest first, for connectors that
// keep another system in sync. It needs an admin's credentials; Zendesk
// allows it 600 requests per 10 minutes.
//
// Zendesk's time-based export repeats the events of the last second of a
// page on the next one and always offers a next page; the iterator yields
// each event once and ends when a page brings no event it has not yielded
// yet. Remember the CreatedAt of the last event to resume from there.
// More than one page of events within a single second cannot be walked by
// a time-based export; the iterator then ends after the first such page.
func (s *SideConversationsService) IncrementalEvents(ctx context.Context, start time.Time) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		if start.Before(time.Unix(0, 0)) {
			yield(Event{}, invalid("start", "must not be before 1970"))
			return
		}
		q := url.Values{"start_time": {strconv.FormatInt(start.Unix(), 10)}}
		cl := &call{method: http.MethodGet, url: s.client.endpoint("tickets/side_conversations/events", q)}
		// seen holds the ids already yielded that a later page may repeat:
		// those at or after the current start time.
		seen := map[string]int64{}
		for {
			var page incrementalAnswer
			if _, err := s.client.do(ctx, cl, &page); err != nil {
				yield(Event{}, err)
				return
			}
			fresh := 0
			for _, ev := range page.events {
				if _, dup := seen[ev.ID]; dup {
					continue
				}
				fresh++
				seen[ev.ID] = ev.CreatedAt.Unix()
				if !yield(ev, nil) {
					return
				}
			}
			next := page.nextPage
			if fresh == 0 || page.endOfStream || next == "" {
				return
			}
			for id, at := range seen {
				if at < page.endTime {
					delete(seen, id)
				}
			}
			nextURL, err := s.client.followable(next, cl.url)
			if err != nil {
				yield(Event{}, err)
				return
			}
			cl = &call{method: http.MethodGet, url: nextURL}
		}
	}
}
