package zendesktest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	zendesk "github.com/sideconv/zendesk"
)

// Seed loads side conversations and events of a ticket from JSON in any of
// the shapes Zendesk answers with:
//
//   - a list answer: {"side_conversations": [...], "events": [...]}
//   - a show, update or reply answer: {"side_conversation": {...}, "events": [...]}
//   - a create or import answer: {"event": {...}, "side_conversation": {...}}
//   - a bare side conversation object: {"id": ..., "subject": ..., ...}
//   - an events list or incremental export page: {"events": [...], ...}
//   - an upload answer: {"id": "s3-...", "name": ..., "content_type": ..., "size": ...},
//     which registers an upload (without content) that messages may
//     reference in attachment_ids
//
// The ticket is registered. Conversations and events are stored as given,
// with these adjustments: ticket_id becomes ticketID and url points at this
// server (attachments keep their content_url); a missing id is generated; a
// missing state is "open"; missing times are filled from created_at (or the
// clock). An event without side_conversation_id belongs to the one
// conversation of the document. Events of a conversation that is neither in
// the document nor stored yet create it on ticketID, rebuilt from its events
// (created_at, subject, participants, state and times). A conversation,
// event or upload whose id is stored already is replaced, so loading the
// same document twice changes nothing. Seeded events are not SentMessages.
//
// Seed changes nothing and returns an error when the JSON is malformed, has
// none of these shapes, or holds events of a conversation of another ticket.
func (s *Server) Seed(ticketID int64, data []byte) error {
	doc, err := parseSeed(data)
	if err != nil {
		return fmt.Errorf("zendesktest: Seed: %w", err)
	}
	convs, events := doc.convs, doc.events

	s.mu.Lock()
	defer s.mu.Unlock()
	inDoc := make(map[string]bool, len(convs))
	for _, sc := range convs {
		if sc.ID != "" {
			inDoc[sc.ID] = true
		}
	}
	for i, ev := range events {
		switch {
		case ev.SideConversationID == "" && len(convs) == 1:
		case ev.SideConversationID == "":
			return fmt.Errorf("zendesktest: Seed: event %d (%q) has no side_conversation_id, and the document holds %d side conversations",
				i, ev.ID, len(convs))
		case inDoc[ev.SideConversationID]:
		default:
			if c, ok := s.convs[ev.SideConversationID]; ok && c.sc.TicketID != ticketID {
				return fmt.Errorf("zendesktest: Seed: event %d (%q) belongs to side conversation %q of ticket %d, not %d",
					i, ev.ID, ev.SideConversationID, c.sc.TicketID, ticketID)
			}
		}
	}

	s.tickets[ticketID] = true
	for _, meta := range doc.uploads {
		s.seedUploadLocked(meta)
	}
	byConv := make(map[string][]zendesk.Event)
	var convOrder []string // conversations the document only names in events, in order
	var orphans []zendesk.Event
	for _, ev := range events {
		id := ev.SideConversationID
		if id == "" {
			orphans = append(orphans, ev)
			continue
		}
		if _, ok := byConv[id]; !ok && !inDoc[id] {
			convOrder = append(convOrder, id)
		}
		byConv[id] = append(byConv[id], ev)
	}
	for _, sc := range convs {
		evs := byConv[sc.ID]
		if len(convs) == 1 {
			evs = append(evs, orphans...)
		}
		s.seedLocked(ticketID, sc, evs)
	}
	for _, id := range convOrder {
		evs := byConv[id]
		c, ok := s.convs[id]
		if !ok {
			s.seedLocked(ticketID, conversationFromEvents(id, evs), evs)
			continue
		}
		for _, ev := range evs {
			s.seedEventLocked(c, ev)
		}
	}
	return nil
}

// seedDoc is a decoded Seed document.
type seedDoc struct {
	convs   []zendesk.SideConversation
	events  []zendesk.Event
	uploads []zendesk.UploadedAttachment
}

// parseSeed decodes a Seed document.
func parseSeed(data []byte) (seedDoc, error) {
	var doc seedDoc
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return doc, errors.New("the document is not a JSON object")
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return doc, err
	}
	has := func(k string) bool { _, ok := top[k]; return ok }
	switch {
	case has("side_conversations"):
		if err := json.Unmarshal(top["side_conversations"], &doc.convs); err != nil {
			return doc, fmt.Errorf("side_conversations: %w", err)
		}
	case has("side_conversation"):
		var sc zendesk.SideConversation
		if err := json.Unmarshal(top["side_conversation"], &sc); err != nil {
			return doc, fmt.Errorf("side_conversation: %w", err)
		}
		doc.convs = append(doc.convs, sc)
	case has("id") && (has("name") || has("size")) && !has("subject") && !has("state") && !has("participants"):
		var up zendesk.UploadedAttachment
		if err := json.Unmarshal(data, &up); err != nil {
			return doc, fmt.Errorf("upload: %w", err)
		}
		if up.ID == "" {
			return doc, errors.New("upload: the id is empty")
		}
		doc.uploads = append(doc.uploads, up)
		return doc, nil
	case has("id"):
		var sc zendesk.SideConversation
		if err := json.Unmarshal(data, &sc); err != nil {
			return doc, fmt.Errorf("side conversation: %w", err)
		}
		doc.convs = append(doc.convs, sc)
		return doc, nil
	case has("events"):
	default:
		return doc, errors.New("the document has none of the keys side_conversations, side_conversation, id or events")
	}
	if raw, ok := top["events"]; ok && !isAbsent(raw) {
		if err := json.Unmarshal(raw, &doc.events); err != nil {
			return doc, fmt.Errorf("events: %w", err)
		}
	}
	if raw, ok := top["event"]; ok && !isAbsent(raw) {
		var ev zendesk.Event
		if err := json.Unmarshal(raw, &ev); err != nil {
			return doc, fmt.Errorf("event: %w", err)
		}
		doc.events = append(doc.events, ev)
	}
	return doc, nil
}

// conversationFromEvents rebuilds a conversation that a document names only
// through its events, replaying them oldest first.
func conversationFromEvents(id string, events []zendesk.Event) zendesk.SideConversation {
	evs := append([]zendesk.Event(nil), events...)
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].CreatedAt.Before(evs[j].CreatedAt) })
	sc := zendesk.SideConversation{ID: id, State: zendesk.StateOpen}
	for _, ev := range evs {
		at := ev.CreatedAt
		if sc.CreatedAt.IsZero() {
			sc.CreatedAt = at
		}
		if m := ev.Message; m != nil {
			if sc.Subject == "" {
				sc.Subject = m.Subject
			}
			sc.Participants = addParticipants(sc.Participants, append([]zendesk.Participant{m.From}, m.To...)...)
			sc.MessageAddedAt = at
			sc.PreviewText = preview(m.Body, previewLength)
		}
		if ev.Updates.State != "" {
			sc.State = ev.Updates.State
			sc.StateUpdatedAt = at
		}
		if ev.Updates.Subject != "" {
			sc.Subject = ev.Updates.Subject
		}
		sc.UpdatedAt = at
	}
	return sc
}

// seedUploadLocked registers an upload without content. The caller holds
// s.mu.
func (s *Server) seedUploadLocked(meta zendesk.UploadedAttachment) {
	if u, ok := s.uploadsByID[meta.ID]; ok {
		u.meta = meta
		return
	}
	u := &upload{meta: meta}
	s.uploads = append(s.uploads, u)
	s.uploadsByID[meta.ID] = u
}

// SeedConversation stores a side conversation of a ticket with its events
// (those given and any in sc.Events), adjusted as Seed describes; the
// events' side_conversation_id becomes sc's id. The ticket is registered.
// Seeded events are not SentMessages.
func (s *Server) SeedConversation(ticketID int64, sc zendesk.SideConversation, events ...zendesk.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tickets[ticketID] = true
	all := append(append([]zendesk.Event(nil), sc.Events...), events...)
	for i := range all {
		all[i].SideConversationID = ""
	}
	s.seedLocked(ticketID, sc, all)
}

// seedLocked stores or replaces a conversation and upserts its events. The
// caller holds s.mu.
func (s *Server) seedLocked(ticketID int64, sc zendesk.SideConversation, events []zendesk.Event) {
	sc = cloneConversation(sc)
	if sc.ID == "" {
		sc.ID = s.newConversationID()
	}
	sc.TicketID = ticketID
	sc.URL = s.conversationURL(ticketID, sc.ID)
	if sc.State == "" {
		sc.State = zendesk.StateOpen
	}
	if child, ok := sc.ChildTicketID(); ok && child >= s.nextChildTicket {
		// A child ticket created later must not take the seeded one's id.
		s.nextChildTicket = child + 1
	}
	if sc.CreatedAt.IsZero() {
		sc.CreatedAt = s.now()
	}
	sc.CreatedAt = normTime(sc.CreatedAt)
	for _, t := range []*time.Time{&sc.UpdatedAt, &sc.StateUpdatedAt} {
		if t.IsZero() {
			*t = sc.CreatedAt
		}
		*t = normTime(*t)
	}
	c, ok := s.convs[sc.ID]
	if ok {
		c.sc = sc
		// The conversation may have moved to another ticket: its events
		// move with it.
		for _, e := range c.events {
			e.ev.TicketID = ticketID
			e.ev.URL = s.eventURL(ticketID, sc.ID, e.ev.ID)
		}
	} else {
		c = &conversation{sc: sc}
		s.convs[sc.ID] = c
	}
	for _, ev := range events {
		s.seedEventLocked(c, ev)
	}
	if c.sc.MessageAddedAt.IsZero() {
		c.sc.MessageAddedAt = c.sc.CreatedAt
		for _, e := range c.events {
			if e.ev.Message != nil && e.ev.CreatedAt.After(c.sc.MessageAddedAt) {
				c.sc.MessageAddedAt = e.ev.CreatedAt
			}
		}
	}
	c.sc.MessageAddedAt = normTime(c.sc.MessageAddedAt)
}

// seedEventLocked stores or replaces one event of c. The caller holds s.mu.
func (s *Server) seedEventLocked(c *conversation, ev zendesk.Event) {
	ev = cloneEvent(ev)
	ev.SideConversationID = c.sc.ID
	ev.TicketID = c.sc.TicketID
	if ev.ID == "" {
		ev.ID = s.newEventID()
	}
	if ev.CreatedAt.IsZero() {
		ev.CreatedAt = s.now()
	}
	ev.CreatedAt = normTime(ev.CreatedAt)
	if ev.Via == "" {
		ev.Via = "api"
	}
	ev.URL = s.eventURL(c.sc.TicketID, c.sc.ID, ev.ID)
	for _, e := range c.events {
		if e.ev.ID == ev.ID {
			if ev.Type == "" {
				ev.Type = e.ev.Type
			}
			e.ev = ev
			return
		}
	}
	if s.eventIDs[ev.ID] {
		// The id belongs to an event of another conversation: the seeded
		// one replaces it there, as ids are unique.
		s.removeEventLocked(ev.ID)
	}
	if ev.Type == "" {
		switch {
		case ev.Message == nil:
			ev.Type = zendesk.EventUpdate
		case len(c.events) == 0:
			ev.Type = zendesk.EventCreate
		default:
			ev.Type = zendesk.EventReply
		}
	}
	s.appendEvent(c, ev)
}

// removeEventLocked takes the event with id out of whichever conversation
// holds it. The caller holds s.mu.
func (s *Server) removeEventLocked(id string) {
	for _, c := range s.convs {
		for i, e := range c.events {
			if e.ev.ID == id {
				c.events = append(c.events[:i], c.events[i+1:]...)
				delete(s.eventIDs, id)
				return
			}
		}
	}
}
