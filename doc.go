// Package zendesk is a typed client for Zendesk side conversations: the
// e-mail threads, Slack and Microsoft Teams channels, and child tickets that
// agents attach to a support ticket.
//
// # Getting started
//
// Create one Client per Zendesk account and share it; it is safe for
// concurrent use.
//
//	client, err := zendesk.NewClient("acme", zendesk.APIToken("agent@acme.com", token))
//	if err != nil {
//		return err
//	}
//	res, _, err := client.SideConversations.Create(ctx, ticketID, zendesk.CreateRequest{
//		Message: zendesk.Message{
//			Subject: "Can you check the invoice?",
//			Body:    "The customer says it was charged twice.",
//			To:      []zendesk.Participant{zendesk.Email("billing@partner.example")},
//		},
//	})
//
// Every method takes a context first, validates its input before any I/O,
// and returns the decoded value, a *Response (request id, rate-limit state,
// attempts, pagination) and an error. On failure the value is nil.
//
// # Authentication
//
// APIToken authenticates with an agent's e-mail address and an API token
// (HTTP Basic "{email}/token:{token}"). Zendesk switched password
// authentication off in January 2026 and stops accepting API tokens on
// 2027-04-30, so new integrations should use OAuth: OAuth takes an
// oauth2.TokenSource and asks it for a token on every attempt, so a
// refreshed token is picked up without restarting anything. BearerToken
// sends a fixed OAuth access token.
//
// Credentials never appear in errors, logs or formatted values: printing
// them with any fmt verb or slog shows [REDACTED]. The transport adds them
// to a copy of each request as it is sent, so the request reachable
// through Response carries none. They are sent only to the client's own
// scheme and host; a redirect or a pagination link elsewhere goes without
// them.
//
// # Side conversation types
//
// The recipients of the first message decide what kind of side conversation
// Create opens:
//
//   - e-mail: Email(address), NamedEmail(address, name) or Agent(userID);
//   - Slack: SlackChannel(workspaceID, channelID);
//   - child ticket: SupportGroup(groupID) or SupportAgent(groupID, agentID);
//     the child ticket's id is then in SideConversation.ChildTicketID;
//   - Microsoft Teams: TeamsChannel(channelID).
//
// One message cannot mix types: a Slack channel and an e-mail address in the
// same To is refused before sending with an error matching
// ErrMixedParticipants. A sender (From) is of its recipients' type, or an
// agent named by user_id (Agent), who may send to any type. A Name may go
// with a participant of any type.
//
// # What is refused, and what is sent
//
// The client refuses before sending what Zendesk's reference refuses, and
// documents each rule it adds beyond the reference, with its reason, in
// Message.Validate. Create needs at least one recipient; a Reply needs none
// (it goes to the conversation's participants); no message needs a body; an
// UpdateRequest may name nothing, and may set ExternalIDs. Only the
// writable fields of a message are sent: HTMLBody, PreviewText and
// Attachments, which Zendesk fills in its answers, stay out of every
// request, also when the Message came from Zendesk.
//
// # Replies
//
// Zendesk documents its answer to Reply as the side conversation alone, so
// SideConversationResult.Event is empty after a Reply unless Zendesk sends
// the event (the client decodes it when it does). The reply is the latest
// event of ListEvents, or the one whose Message.ExternalIDs carries an id
// you gave it.
//
// # Decoding
//
// A response is not lost over a value Zendesk may send: external_ids values
// that are not strings keep their JSON text, support_group_id and
// support_agent_id are read from numbers or strings (a text that is not a
// number is kept in SupportGroupIDText and SupportAgentIDText), times are
// read in RFC 3339 and the common ISO 8601 variants (a space for the T, an
// offset without a colon, no zone, a date alone) and a time that is none
// of them decodes as the zero time, and null stands for the zero value of
// any field.
//
// # Errors
//
// Input the client refuses comes back as a *ValidationError naming the field
// by its JSON path ("message.to[1].slack_channel_id"); it matches
// ErrInvalidRequest, and nothing was sent. Every answer outside 2xx comes
// back as an *APIError with the status, Zendesk's error code and
// description, the request id to quote to Zendesk support, and the raw body
// for answers that are not JSON. Match kinds with errors.Is:
//
//	var apiErr *zendesk.APIError
//	switch {
//	case errors.Is(err, zendesk.ErrNotFound):
//		// the ticket or the side conversation does not exist
//	case errors.Is(err, zendesk.ErrRateLimited) && errors.As(err, &apiErr):
//		// come back after apiErr.RetryAfter
//	case errors.Is(err, zendesk.ErrMaybeSent):
//		// the message may have gone out: look before sending it again
//	}
//
// # Retries and safety
//
// The client retries what is safe to retry and nothing else:
//
//   - A 429 (rate limited) is retried on every method after the server's
//     Retry-After, as is a 503 with Retry-After: Zendesk did not process
//     the request.
//   - Other 5xx answers (except 501), broken connections, and 2xx answers
//     whose body broke off or came empty are retried only for GET, PUT and
//     DELETE, with exponential backoff and jitter.
//   - A POST (Create, Reply, Import, ImportEvents, UploadAttachment) is
//     never resent after a failure that may have reached Zendesk: a side
//     conversation e-mail sent twice cannot be taken back. Such a failure
//     (a timeout, a broken connection, a 5xx other than 501, 505 and a 503
//     with Retry-After, a 2xx whose body cannot be used) matches
//     ErrMaybeSent. A POST is resent only when Zendesk certainly did not
//     act on it: a 429, a 503 with Retry-After, or a connection that could
//     not be opened. It never follows a redirect.
//   - With an IdempotencyKey, Create and Reply make at most one message
//     per key (per ticket for Create, per side conversation for Reply).
//     Calls that share a key run one after the other, and the later ones
//     get the first one's message. Before sending, the client looks for
//     the key; after a failure that may have reached Zendesk it looks once
//     more and, not finding the message, returns ErrMaybeSent without
//     resending. Calls with the key then keep returning ErrMaybeSent until
//     a lookup finds the message or the settle time (WithSettleTime)
//     has passed. A key used for a different message fails with
//     ErrIdempotencyKeyReused. The promise spans the calls that share a
//     Coordinator: one process by default, every replica with zendeskredis.
//     docs/IDEMPOTENCY.md says under which failures it holds and where it
//     ends.
//   - A Retry-After longer than RetryPolicy.MaxRetryAfter (60s by default)
//     ends the call at once with an *APIError whose RetryAfter says when to
//     come back, so a job runner can reschedule instead of sleeping.
//   - Waits end as soon as the context ends; the error wraps ctx.Err().
//
// Configure the policy with WithRetryPolicy or turn it off with
// WithoutRetries; RetryPolicy.OnRetry and WithLogger see every retry.
//
// # Rate limits
//
// Zendesk limits requests per account (200 to 2,500 a minute, by plan) and
// Create and Reply on their own (300 per 10 minutes). The client shares
// what Zendesk tells it between all the calls made through it: a 429's
// Retry-After pauses every call of the same budget, not only the refused
// one, and the ratelimit-remaining and ratelimit-reset headers of each
// answer tell it how many more requests fit before the reset; counting its
// requests still in flight against that figure, it holds the next ones
// until the reset rather than send them into a refusal. A busy service can
// also pace itself with WithRateLimit (token buckets per budget).
// Response.Rate shows the budget of the last answer.
//
// # Coordination and many replicas
//
// All of this, and the idempotency-key locks, goes through a Coordinator:
// Admit before each attempt, Done after each answer, LockKey around a keyed
// Create or Reply. The default, NewLocalCoordinator, shares them between
// the goroutines of one process. Replicas of a service on one Zendesk
// account share them through Redis with package
// github.com/sideconv/zendesk/zendeskredis (a module of its own), passed
// to every client with WithCoordinator; when Redis does not answer, it
// falls back to the in-process behaviour.
//
// # Pagination and iterators
//
// Zendesk pages side conversations and their events by offset: List and
// ListEvents return one page and Response.NextPage; ListIter and
// ListEventsIter walk every page lazily:
//
//	for sc, err := range client.SideConversations.ListIter(ctx, ticketID, &zendesk.ListOptions{PerPage: 100}) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(sc.ID, sc.State, sc.Subject)
//	}
//
// An iterator requests nothing before the loop starts and nothing after it
// breaks, follows next_page exactly as Zendesk gives it, and yields an error
// once before it stops. A next_page that leads to another scheme or host is
// not followed (*ForeignPageError), so credentials never leave the account's
// origin. Zendesk refuses pages past the 10,000th record: ListOptions that
// ask for such a page are refused before anything is sent (a PerPage of 0
// counts as Zendesk's default of 100, so Page 101 is the first refused),
// and a next_page that leads there comes back as an *OffsetLimitError that
// says so. PerPage is at most 100.
//
// With ListOptions.IncludeEvents or ShowOptions.IncludeEvents, Zendesk
// sideloads events; the client hands each conversation its own events,
// oldest first, in SideConversation.Events.
//
// IncrementalEvents walks the events of every ticket from a start time, for
// connectors that keep another system in sync (admins only).
//
// # Attachments
//
// UploadAttachment uploads a file (at most MaxAttachmentBytes) and returns
// its id; send the id in Message.AttachmentIDs of a Create, Reply or Import.
// DownloadAttachment writes the content of an attachment of a message
// Zendesk returned to an io.Writer: only from the account's own API (any
// other content_url is refused before sending), following a redirect to
// Zendesk's file storage without credentials, and at most
// MaxAttachmentBytes.
//
// # Testing with zendesktest
//
// Package zendesktest runs an in-memory side-conversations API on loopback
// that answers as Zendesk's reference documents, including its errors,
// pagination, rate limits and injected faults:
//
//	srv := zendesktest.Start(t)
//	client := srv.Client()
//	// ... exercise your code with client ...
//	if n := len(srv.SentMessages()); n != 1 {
//		t.Fatalf("sent %d messages, want 1", n)
//	}
package zendesk
