package zendesktest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // image sizes of uploads
	_ "image/jpeg" // image sizes of uploads
	_ "image/png"  // image sizes of uploads
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	zendesk "github.com/sideconv/zendesk"
)

// Offset pagination, as Zendesk does it for side conversations and their
// events.
const (
	defaultPerPage = 100
	maxPerPage     = 100
	// offsetLimit is the number of records past which Zendesk refuses
	// offset pagination.
	offsetLimit = 10000
)

// previewLength is how much of a body a side conversation's preview_text
// holds; a message's preview_text holds messagePreviewLength.
const (
	previewLength        = 120
	messagePreviewLength = 100
)

// Ids: UUID-shaped, counted, so that example output is stable. The first
// group tells the kind apart.

func (s *Server) newConversationID() string {
	for {
		s.convSeq++
		id := fmt.Sprintf("5c000000-0000-4000-8000-%012d", s.convSeq)
		if _, taken := s.convs[id]; !taken { // a seeded conversation may hold it
			return id
		}
	}
}

func (s *Server) newEventID() string {
	for {
		s.eventSeq++
		id := fmt.Sprintf("e0000000-0000-4000-8000-%012d", s.eventSeq)
		if !s.eventIDs[id] { // a seeded event may hold it
			return id
		}
	}
}

func (s *Server) newUploadID() string {
	for {
		s.uploadSeq++
		id := fmt.Sprintf("s3-f0000000-0000-4000-8000-%012d", s.uploadSeq)
		if _, taken := s.uploadsByID[id]; !taken { // a seeded upload may hold it
			return id
		}
	}
}

// page is a validated page request.
type page struct{ number, perPage int }

// parsePage reads page and per_page. Values that are not positive numbers
// take the defaults; per_page is clamped to 100. A page that starts past
// record 10,000 is answered 400, as Zendesk does.
func parsePage(q url.Values, resp *response) (page, bool) {
	p := page{number: 1, perPage: defaultPerPage}
	if n, ok := positiveInt(q.Get("page")); ok {
		p.number = n
	}
	if n, ok := positiveInt(q.Get("per_page")); ok {
		p.perPage = min(n, maxPerPage)
	}
	if p.number > offsetLimit || (p.number-1)*p.perPage >= offsetLimit {
		resp.badRequest("InvalidPaginationParameter", fmt.Sprintf(
			"Offset pagination is limited to the first 10,000 records: page %d of %d per page starts past them",
			p.number, p.perPage))
		return p, false
	}
	return p, true
}

// positiveInt parses a positive number; one too large to parse counts as
// the largest int.
func positiveInt(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if errors.Is(err, strconv.ErrRange) && !strings.HasPrefix(strings.TrimSpace(s), "-") {
		return int(^uint(0) >> 1), true
	}
	return n, err == nil && n > 0
}

// bounds returns the slice bounds of the page within total records.
func (p page) bounds(total int) (int, int) {
	start := min((p.number-1)*p.perPage, total)
	return start, min(start+p.perPage, total)
}

// links returns next_page and previous_page: absolute URLs on the server's
// own address, or nil.
func (s *Server) links(rq *request, p page, total int, include bool) (next, previous any) {
	link := func(n int) string {
		q := url.Values{"page": {strconv.Itoa(n)}, "per_page": {strconv.Itoa(p.perPage)}}
		if include {
			q.Set("include", "events")
		}
		return s.url + rq.route.path + "?" + q.Encode()
	}
	if p.number*p.perPage < total {
		next = link(p.number + 1)
	}
	if p.number > 1 {
		previous = link(p.number - 1)
	}
	return next, previous
}

// includesEvents reports whether the query asks to sideload events.
func includesEvents(q url.Values) bool {
	for _, v := range q["include"] {
		for _, part := range strings.Split(v, ",") {
			if strings.TrimSpace(part) == "events" {
				return true
			}
		}
	}
	return false
}

type listOut struct {
	SideConversations []conversationOut `json:"side_conversations"`
	Events            *[]eventOut       `json:"events,omitempty"`
	NextPage          any               `json:"next_page"`
	PreviousPage      any               `json:"previous_page"`
	Count             int               `json:"count"`
}

type showOut struct {
	SideConversation conversationOut `json:"side_conversation"`
	Events           *[]eventOut     `json:"events,omitempty"`
}

type resultOut struct {
	Event            *eventOut       `json:"event,omitempty"`
	SideConversation conversationOut `json:"side_conversation"`
	Updates          map[string]any  `json:"updates"`
}

// result answers status with the envelope of Create, the imports, and
// Reply under WithReplyEvent: the event made, the conversation as it is
// now, and what changed.
func (s *Server) result(resp *response, status int, ev zendesk.Event, sc zendesk.SideConversation, updates zendesk.Updates) {
	evOut := eventToWire(ev, s.cfg.eventLinks)
	resp.setJSON(status, resultOut{Event: &evOut, SideConversation: conversationToWire(sc), Updates: updatesToWire(updates)})
}

type eventsOut struct {
	Events       []eventOut `json:"events"`
	NextPage     any        `json:"next_page"`
	PreviousPage any        `json:"previous_page"`
	Count        int        `json:"count"`
}

type incrementalOut struct {
	Events   []eventOut `json:"events"`
	NextPage string     `json:"next_page"`
	EndTime  int64      `json:"end_time"`
	Count    int        `json:"count"`
}

func (s *Server) handleList(rq *request, resp *response) {
	if !s.ticketExists(rq, resp) {
		return
	}
	q := rq.r.URL.Query()
	p, ok := parsePage(q, resp)
	if !ok {
		return
	}
	include := includesEvents(q)
	convs := s.conversationsOf(rq.route.ticketID)
	start, end := p.bounds(len(convs))
	out := listOut{SideConversations: make([]conversationOut, 0, end-start), Count: len(convs)}
	var events []eventOut
	for _, c := range convs[start:end] {
		out.SideConversations = append(out.SideConversations, conversationToWire(c.sc))
		if include {
			events = append(events, eventsToWire(c.sortedEvents(), s.cfg.eventLinks)...)
		}
	}
	if include {
		if events == nil {
			events = []eventOut{}
		}
		out.Events = &events
	}
	out.NextPage, out.PreviousPage = s.links(rq, p, len(convs), include)
	resp.setJSON(http.StatusOK, out)
}

func (s *Server) handleShow(rq *request, resp *response) {
	c := s.lookupConversation(rq, resp)
	if c == nil {
		return
	}
	out := showOut{SideConversation: conversationToWire(c.sc)}
	if includesEvents(rq.r.URL.Query()) {
		events := eventsToWire(c.sortedEvents(), s.cfg.eventLinks)
		out.Events = &events
	}
	resp.setJSON(http.StatusOK, out)
}

func (s *Server) handleEvents(rq *request, resp *response) {
	c := s.lookupConversation(rq, resp)
	if c == nil {
		return
	}
	p, ok := parsePage(rq.r.URL.Query(), resp)
	if !ok {
		return
	}
	events := c.sortedEvents()
	start, end := p.bounds(len(events))
	out := eventsOut{Events: eventsToWire(events[start:end], s.cfg.eventLinks), Count: len(events)}
	out.NextPage, out.PreviousPage = s.links(rq, p, len(events), false)
	resp.setJSON(http.StatusOK, out)
}

// newEvent makes an event of a conversation, stamped now unless at is set.
func (s *Server) newEvent(sc *zendesk.SideConversation, typ zendesk.EventType, at time.Time, actor zendesk.Participant) zendesk.Event {
	id := s.newEventID()
	return zendesk.Event{
		ID:                 id,
		SideConversationID: sc.ID,
		TicketID:           sc.TicketID,
		Type:               typ,
		Via:                "api",
		URL:                s.eventURL(sc.TicketID, sc.ID, id),
		Actor:              actor,
		CreatedAt:          at,
	}
}

// addConversation stores a new conversation, giving it its URL. The caller
// holds s.mu.
func (s *Server) addConversation(sc zendesk.SideConversation) *conversation {
	sc.URL = s.conversationURL(sc.TicketID, sc.ID)
	c := &conversation{sc: sc}
	s.convs[sc.ID] = c
	return c
}

// appendEvent stores an event of c. The caller holds s.mu.
func (s *Server) appendEvent(c *conversation, ev zendesk.Event) {
	s.order++
	s.eventIDs[ev.ID] = true
	c.events = append(c.events, &storedEvent{ev: ev, order: s.order})
}

func (s *Server) handleCreate(rq *request, resp *response) {
	if !s.ticketExists(rq, resp) {
		return
	}
	var in struct {
		Message     *messageIn      `json:"message"`
		ExternalIDs json.RawMessage `json:"external_ids"`
	}
	if !decodeJSON(rq.body, &in, resp) {
		return
	}
	if in.Message == nil {
		resp.badRequest("InvalidParameter", "Invalid parameter: message is required")
		return
	}
	details := validationErrors{}
	pm := s.parseMessage(in.Message, messageRules{opening: true}, details)
	ids := conversationExternalIDs(in.ExternalIDs, details)
	if len(details) > 0 {
		resp.invalid(details)
		return
	}

	now := s.now()
	ticketID := rq.route.ticketID
	sc := zendesk.SideConversation{
		ID:             s.newConversationID(),
		TicketID:       ticketID,
		Subject:        pm.msg.Subject,
		PreviewText:    preview(pm.msg.Body, previewLength),
		State:          zendesk.StateOpen,
		ExternalIDs:    ids,
		CreatedAt:      now,
		UpdatedAt:      now,
		MessageAddedAt: now,
		StateUpdatedAt: now,
	}
	if pm.channel == zendesk.ChannelChildTicket {
		child := s.nextChildTicket
		s.nextChildTicket++
		s.tickets[child] = true
		if sc.ExternalIDs == nil {
			sc.ExternalIDs = map[string]string{}
		}
		sc.ExternalIDs["targetTicketId"] = itoa(child)
	}
	msg := pm.msg
	msg.Attachments = s.attachmentsFor(ticketID, sc.ID, pm.uploads)
	sc.Participants = addParticipants(nil, append([]zendesk.Participant{msg.From}, msg.To...)...)

	c := s.addConversation(sc)
	ev := s.newEvent(&c.sc, zendesk.EventCreate, now, s.agent())
	ev.Message = &msg
	s.appendEvent(c, ev)
	s.sent = append(s.sent, cloneEvent(ev))

	s.result(resp, http.StatusCreated, ev, c.sc, zendesk.Updates{})
}

// handleUpdate writes the properties sent, all optional ("Update Side
// Conversation"): state, subject and external_ids. An update that changes
// nothing answers the conversation as it is and makes no event; one that
// changes the state or subject makes an update event. external_ids replace
// the conversation's.
func (s *Server) handleUpdate(rq *request, resp *response) {
	c := s.lookupConversation(rq, resp)
	if c == nil {
		return
	}
	var in struct {
		SideConversation *struct {
			State       json.RawMessage `json:"state"`
			Subject     json.RawMessage `json:"subject"`
			ExternalIDs json.RawMessage `json:"external_ids"`
		} `json:"side_conversation"`
	}
	if !decodeJSON(rq.body, &in, resp) {
		return
	}
	if in.SideConversation == nil {
		resp.badRequest("InvalidParameter", "Invalid parameter: side_conversation is required")
		return
	}
	details := validationErrors{}
	var state zendesk.State
	var subject string
	if raw := in.SideConversation.State; !isAbsent(raw) {
		state = parseState(raw, details)
	}
	if raw := in.SideConversation.Subject; !isAbsent(raw) {
		if err := json.Unmarshal(raw, &subject); err != nil {
			details.add("subject", "subject must be a string")
		}
		subject = strings.TrimSpace(subject)
	}
	setIDs := !isAbsent(in.SideConversation.ExternalIDs)
	ids := conversationExternalIDs(in.SideConversation.ExternalIDs, details)
	if len(details) > 0 {
		resp.invalid(details)
		return
	}

	var updates zendesk.Updates
	if state != "" && state != c.sc.State {
		updates.State = state
	}
	if subject != "" && subject != c.sc.Subject {
		updates.Subject = subject
	}
	idsChange := setIDs && !maps.Equal(ids, c.sc.ExternalIDs)
	if updates == (zendesk.Updates{}) && !idsChange {
		// Nothing to change, or the values are the current ones: nothing
		// happens, as for any PUT sent twice (a retry after a lost
		// answer, say).
		resp.setJSON(http.StatusOK, showOut{SideConversation: conversationToWire(c.sc)})
		return
	}
	now := s.now()
	if updates.State != "" {
		c.sc.State = updates.State
		c.sc.StateUpdatedAt = now
	}
	if updates.Subject != "" {
		c.sc.Subject = updates.Subject
	}
	if idsChange {
		c.sc.ExternalIDs = ids
	}
	c.sc.UpdatedAt = now
	if updates != (zendesk.Updates{}) {
		ev := s.newEvent(&c.sc, zendesk.EventUpdate, now, s.agent())
		ev.Updates = updates
		s.appendEvent(c, ev)
	}
	resp.setJSON(http.StatusOK, showOut{SideConversation: conversationToWire(c.sc)})
}

// handleReply answers 200 {"side_conversation": ...}, as the reference
// documents, or with the event and updates too under WithReplyEvent. A
// reply without "to" goes to the conversation's participants other than
// its sender.
func (s *Server) handleReply(rq *request, resp *response) {
	c := s.lookupConversation(rq, resp)
	if c == nil {
		return
	}
	var in struct {
		Message *messageIn `json:"message"`
	}
	if !decodeJSON(rq.body, &in, resp) {
		return
	}
	if in.Message == nil {
		resp.badRequest("InvalidParameter", "Invalid parameter: message is required")
		return
	}
	details := validationErrors{}
	pm := s.parseMessage(in.Message, messageRules{subject: c.sc.Subject}, details)
	if len(details) > 0 {
		resp.invalid(details)
		return
	}

	now := s.now()
	msg := pm.msg
	if len(msg.To) == 0 {
		msg.To = othersThan(c.sc.Participants, msg.From)
	}
	msg.Attachments = s.attachmentsFor(c.sc.TicketID, c.sc.ID, pm.uploads)
	var updates zendesk.Updates
	if c.sc.State != zendesk.StateOpen {
		c.sc.State = zendesk.StateOpen
		c.sc.StateUpdatedAt = now
		updates.State = zendesk.StateOpen
	}
	c.sc.Participants = addParticipants(c.sc.Participants, append([]zendesk.Participant{msg.From}, msg.To...)...)
	c.sc.MessageAddedAt = now
	c.sc.UpdatedAt = now
	c.sc.PreviewText = preview(msg.Body, previewLength)

	ev := s.newEvent(&c.sc, zendesk.EventReply, now, s.agent())
	ev.Message = &msg
	s.appendEvent(c, ev)
	s.sent = append(s.sent, cloneEvent(ev))

	if s.cfg.replyEvent {
		s.result(resp, http.StatusOK, ev, c.sc, updates)
		return
	}
	resp.setJSON(http.StatusOK, showOut{SideConversation: conversationToWire(c.sc)})
}

// othersThan returns the participants other than sender.
func othersThan(participants []zendesk.Participant, sender zendesk.Participant) []zendesk.Participant {
	var out []zendesk.Participant
	skip := participantKey(sender)
	for _, p := range participants {
		if participantKey(p) != skip {
			out = append(out, p)
		}
	}
	return out
}

// importedEvent is a validated event of an import.
type importedEvent struct {
	at time.Time
	pm parsedMessage
}

// parseImportEvents validates the events of Import and ImportEvents.
// Problems go into details.
func (s *Server) parseImportEvents(raw []importEventIn, subject string, details validationErrors) []importedEvent {
	if len(raw) == 0 {
		details.add("events", "events needs at least one event")
		return nil
	}
	out := make([]importedEvent, 0, len(raw))
	for i, in := range raw {
		label := fmt.Sprintf("events[%d]", i)
		var ie importedEvent
		var text string
		if isAbsent(in.CreatedAt) {
			details.add("events", "%s.created_at is required", label)
		} else if err := json.Unmarshal(in.CreatedAt, &text); err != nil {
			details.add("events", "%s.created_at must be a string", label)
		} else if t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(text)); err != nil {
			details.add("events", "%s.created_at %q is not an ISO 8601 time", label, text)
		} else {
			ie.at = normTime(t)
		}
		if in.Message == nil {
			details.add("events", "%s.message is required", label)
			continue
		}
		ie.pm = s.parseMessage(in.Message, messageRules{subject: subject, label: label + ".message: "}, details)
		out = append(out, ie)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].at.Before(out[j].at) })
	return out
}

// addImported stores imported events in c, the first of a new conversation
// as its create event, and returns them.
func (s *Server) addImported(c *conversation, events []importedEvent, first zendesk.EventType) []zendesk.Event {
	out := make([]zendesk.Event, 0, len(events))
	for i, ie := range events {
		typ := zendesk.EventReply
		if i == 0 {
			typ = first
		}
		msg := ie.pm.msg
		msg.Attachments = s.attachmentsFor(c.sc.TicketID, c.sc.ID, ie.pm.uploads)
		ev := s.newEvent(&c.sc, typ, ie.at, msg.From)
		ev.Message = &msg
		s.appendEvent(c, ev)
		c.sc.Participants = addParticipants(c.sc.Participants, append([]zendesk.Participant{msg.From}, msg.To...)...)
		if !ie.at.Before(c.sc.MessageAddedAt) {
			c.sc.MessageAddedAt = ie.at
			c.sc.PreviewText = preview(msg.Body, previewLength)
		}
		out = append(out, ev)
	}
	return out
}

func (s *Server) handleImport(rq *request, resp *response) {
	if !s.ticketExists(rq, resp) {
		return
	}
	var in struct {
		SideConversation *struct {
			Subject     string          `json:"subject"`
			State       json.RawMessage `json:"state"`
			ExternalIDs json.RawMessage `json:"external_ids"`
		} `json:"side_conversation"`
		Events *[]importEventIn `json:"events"`
	}
	if !decodeJSON(rq.body, &in, resp) {
		return
	}
	if in.Events == nil {
		resp.badRequest("InvalidParameter", "Invalid parameter: events is required")
		return
	}
	details := validationErrors{}
	state := zendesk.StateOpen
	var subject string
	var ids map[string]string
	if sc := in.SideConversation; sc != nil {
		subject = strings.TrimSpace(sc.Subject)
		if !isAbsent(sc.State) {
			state = parseState(sc.State, details)
		}
		ids = conversationExternalIDs(sc.ExternalIDs, details)
	}
	if subject == "" {
		for _, ev := range *in.Events {
			if ev.Message != nil && strings.TrimSpace(ev.Message.Subject) != "" {
				subject = strings.TrimSpace(ev.Message.Subject)
				break
			}
		}
	}
	events := s.parseImportEvents(*in.Events, subject, details)
	if len(details) > 0 {
		resp.invalid(details)
		return
	}

	now := s.now()
	ticketID := rq.route.ticketID
	sc := zendesk.SideConversation{
		ID:             s.newConversationID(),
		TicketID:       ticketID,
		Subject:        subject,
		State:          state,
		ExternalIDs:    ids,
		CreatedAt:      events[0].at,
		UpdatedAt:      now,
		StateUpdatedAt: events[len(events)-1].at,
	}
	c := s.addConversation(sc)
	stored := s.addImported(c, events, zendesk.EventCreate)

	s.result(resp, http.StatusCreated, stored[0], c.sc, zendesk.Updates{})
}

func (s *Server) handleImportEvents(rq *request, resp *response) {
	c := s.lookupConversation(rq, resp)
	if c == nil {
		return
	}
	var in struct {
		Events *[]importEventIn `json:"events"`
	}
	if !decodeJSON(rq.body, &in, resp) {
		return
	}
	if in.Events == nil {
		resp.badRequest("InvalidParameter", "Invalid parameter: events is required")
		return
	}
	details := validationErrors{}
	events := s.parseImportEvents(*in.Events, c.sc.Subject, details)
	if len(details) > 0 {
		resp.invalid(details)
		return
	}
	stored := s.addImported(c, events, zendesk.EventReply)
	c.sc.UpdatedAt = s.now()

	s.result(resp, http.StatusCreated, stored[0], c.sc, zendesk.Updates{})
}

// handleIncremental serves the incremental export of every ticket's
// events: created_at >= start_time (inclusive, so the events of the last
// second come again on the next page, as in Zendesk), oldest first.
// next_page is never null; a client stops when a page brings nothing new.
func (s *Server) handleIncremental(rq *request, resp *response) {
	raw := strings.TrimSpace(rq.r.URL.Query().Get("start_time"))
	if raw == "" {
		resp.badRequest("InvalidParameter", "Invalid parameter: start_time is required")
		return
	}
	start, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || start < 0 {
		resp.badRequest("InvalidParameter", "Invalid parameter: start_time must be a Unix time in seconds, not "+strconv.Quote(raw))
		return
	}
	since := time.Unix(start, 0)
	var all []*storedEvent
	for _, c := range s.convs {
		for _, e := range c.events {
			if !e.ev.CreatedAt.Before(since) {
				all = append(all, e)
			}
		}
	}
	sortStored(all)
	if len(all) > s.cfg.incrementalPageSize {
		all = all[:s.cfg.incrementalPageSize]
	}
	out := incrementalOut{Events: make([]eventOut, 0, len(all)), EndTime: start, Count: len(all)}
	for _, e := range all {
		out.Events = append(out.Events, eventToWire(cloneEvent(e.ev), s.cfg.eventLinks))
	}
	if len(all) > 0 {
		out.EndTime = all[len(all)-1].ev.CreatedAt.Unix()
	}
	out.NextPage = s.url + rq.route.path + "?" + url.Values{"start_time": {strconv.FormatInt(out.EndTime, 10)}}.Encode()
	resp.setJSON(http.StatusOK, out)
}

// handleUpload stores the "file" part of a multipart/form-data body.
func (s *Server) handleUpload(rq *request, resp *response) {
	mediaType, params, err := mime.ParseMediaType(rq.r.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/form-data" || params["boundary"] == "" {
		resp.badRequest("InvalidParameter", "Invalid parameter: file is required, sent as multipart/form-data")
		return
	}
	mr := multipart.NewReader(bytes.NewReader(rq.body), params["boundary"])
	var name, partType string
	var data []byte
	found := false
	for !found {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			resp.badRequest("InvalidParameter", "Invalid parameter: the multipart/form-data body is malformed")
			return
		}
		if part.FormName() == "file" && part.FileName() != "" {
			data, err = io.ReadAll(part)
			if err != nil {
				resp.badRequest("InvalidParameter", "Invalid parameter: the multipart/form-data body is malformed")
				return
			}
			name, partType, found = part.FileName(), part.Header.Get("Content-Type"), true
		}
		_ = part.Close()
	}
	if !found {
		resp.badRequest("InvalidParameter", "Invalid parameter: file is required (a multipart field named file, with a filename)")
		return
	}

	meta := zendesk.UploadedAttachment{
		ID:          s.newUploadID(),
		Name:        name,
		ContentType: contentTypeOf(partType, name),
		Size:        int64(len(data)),
	}
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(data)); err == nil {
		meta.Width, meta.Height = cfg.Width, cfg.Height
	}
	u := &upload{meta: meta, data: data}
	s.uploads = append(s.uploads, u)
	s.uploadsByID[meta.ID] = u
	resp.setJSON(http.StatusCreated, uploadOut{
		ContentType: meta.ContentType, Height: meta.Height, ID: meta.ID,
		Name: meta.Name, Size: meta.Size, Width: meta.Width,
	})
}

// contentTypeOf is the part's Content-Type, or else the type of the file
// name's extension, or else application/octet-stream. A part labelled
// application/octet-stream (what Go's multipart.Writer.CreateFormFile
// writes) counts as unlabelled.
func contentTypeOf(partType, name string) string {
	if mt, _, err := mime.ParseMediaType(partType); err == nil && mt != "application/octet-stream" {
		return partType
	}
	if byExt := mime.TypeByExtension(strings.ToLower(path.Ext(name))); byExt != "" {
		if mt, _, err := mime.ParseMediaType(byExt); err == nil {
			return mt
		}
	}
	return "application/octet-stream"
}

// handleDownload serves an attachment's bytes at its content_url.
func (s *Server) handleDownload(rq *request, resp *response) {
	c := s.lookupConversation(rq, resp)
	if c == nil {
		return
	}
	u, ok := s.uploadsByID[rq.route.attachmentID]
	if !ok || u.meta.Name != rq.route.fileName || !c.hasAttachment(u.meta.ID) {
		resp.notFound()
		return
	}
	resp.status = http.StatusOK
	resp.header.Set("Content-Type", u.meta.ContentType)
	resp.body = append([]byte(nil), u.data...)
}

func (c *conversation) hasAttachment(id string) bool {
	for _, e := range c.events {
		if e.ev.Message == nil {
			continue
		}
		for _, a := range e.ev.Message.Attachments {
			if a.ID == id {
				return true
			}
		}
	}
	return false
}
