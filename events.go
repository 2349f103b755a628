package zendesk

import "time"

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
// reply, or an update of its state or subject.
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
