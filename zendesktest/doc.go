// Package zendesktest is an in-memory fake of the Zendesk side conversations
// API for tests: like net/http/httptest, but it behaves like Zendesk.
//
// A Server listens on a loopback address and answers every side
// conversation endpoint under /api/v2 the way Zendesk does: the same
// envelopes, status codes, error bodies ({"error": ..., "description": ...,
// "details": ...}), offset pagination with absolute next_page links and the
// 10,000-record limit, sideloaded events, authentication, validation of
// participants and external_ids, and, when configured, rate limits with
// Retry-After and the X-Rate-Limit and ratelimit-* headers. It answers as
// Zendesk's reference documents; where that differs from what Zendesk may
// also send, an option turns the other shape on (see Answers).
//
// Use it through the real client, and check what happened with the state
// accessors:
//
//	func TestEscalation(t *testing.T) {
//		srv := zendesktest.Start(t, zendesktest.WithTickets(42))
//		client := srv.Client(zendesk.WithoutRetries())
//
//		err := escalate(context.Background(), client, 42) // the code under test
//		require.NoError(t, err)
//
//		sent := srv.SentMessages()
//		require.Len(t, sent, 1) // exactly one e-mail went out
//		assert.Equal(t, "billing@example.com", sent[0].Message.To[0].Email)
//	}
//
// # Endpoints
//
// List, Show, Create, Update, Reply, Import and ImportEvents of a ticket's
// side conversations; the events of one conversation
// (GET .../side_conversations/{id}/events); the incremental export of every
// ticket's events (GET /api/v2/tickets/side_conversations/events?start_time=);
// attachment uploads (POST /api/v2/tickets/side_conversations/attachments)
// and their content_url downloads. Paths may end in .json. A request for an
// unknown route, ticket or conversation is answered 404 RecordNotFound.
//
// As in Zendesk, the incremental export returns the events with created_at
// at or after start_time, oldest first, at most WithIncrementalPageSize of
// them; end_time is the second of the last one, and next_page (never null)
// asks for start_time=end_time, so the events of that second come again. A
// client stops when a page brings nothing new.
//
// Only the tickets given to WithTickets exist (ticket 1 by default), plus
// those registered by AddTicket, Seed and SeedConversation, and the child
// tickets that child-ticket side conversations create (from 10001 on).
//
// # Credentials
//
// Every request must carry "Authorization: Basic
// base64({email}/token:{token})" for the credentials of WithCredentials
// (DefaultEmail and DefaultAPIToken unless set), or "Authorization: Bearer
// {token}" for the token of WithBearerToken; otherwise the answer is 401
// {"error":"Couldn't authenticate you"}. Server.Client returns a client
// that sends the right credentials.
//
// # Deterministic output
//
// Ids are UUID-shaped and counted (5c000000-0000-4000-8000-000000000001 for
// the first side conversation, e0000000-... for events, s3-f0000000-... for
// uploads), and WithClock fixes the times, so output can be compared
// verbatim. Request ids (X-Zendesk-Request-Id) are counted too.
//
// # Failure injection
//
// InjectFault queues failures (an error status, a dropped connection before
// or after processing, a truncated, empty, HTML or wrongly typed body, a
// delayed answer, a gateway timeout after which the request still takes
// effect) for the requests that match them, so that retry and
// "may have been sent" handling can be tested. SentMessages and
// SideConversations tell whether a failed request took effect.
//
// Tests need not wait on the clock to order what happens. A Fault's Hold
// channel keeps a FaultDelay answer back, or a FaultLateCommit request
// unprocessed, until the test closes it; its Applied channel (give it a
// buffer) receives a value each time the fault has taken effect:
//
//	hold := make(chan struct{})
//	applied := make(chan struct{}, 1)
//	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultLateCommit,
//		Method: "POST", Hold: hold, Applied: applied})
//
//	_, _, err := client.SideConversations.Create(ctx, 1, req)
//	// err is a 504 and errors.Is(err, zendesk.ErrMaybeSent); nothing sent yet.
//	close(hold) // Zendesk's application commits the request after all
//	<-applied
//	// srv.SentMessages() now holds the message.
//
// FaultLateCommit is Zendesk's gateway answering 504 while the application
// goes on: the answer comes at once, unprocessed; the request is processed
// later (authenticated, charged to the rate limits, validated and applied
// as any request) and that answer is thrown away. A request still waiting
// when the server is closed is never processed.
//
// # Recorded fixtures
//
// Answers recorded from a real account are replayed with go-vcr
// (gopkg.in/dnaeon/go-vcr.v4), which owns recording, matching and
// cassettes. Scrub adds to a go-vcr recorder the hooks that remove
// credentials, e-mail addresses, people's names, secret-looking values and
// the account's host from what it records; Matcher matches requests against
// a scrubbed cassette; VCR adds both:
//
//	rec, err := recorder.New("testdata/cassettes/escalation",
//		zendesktest.VCR(), recorder.WithMode(recorder.ModeReplayOnly))
//
// RegisterCassette replays a cassette through an httpmock transport.
//
// # Answers
//
// Every answer has the keys of the reference's examples: Create and the
// imports answer {event, side_conversation, updates}; Reply, Update and
// Show answer {side_conversation}; List answers {side_conversations,
// next_page, previous_page, count}. A side conversation carries every
// property of the reference's JSON format, ticket_id included (the List and
// Show examples leave it out; the object's table and example have it). An
// event carries the keys of the reference's example event (actor,
// created_at, id, message, side_conversation_id, type, via), and updates
// when it is an update event. Two options add what the reference's examples
// do not show, for code that must also handle it:
//
//   - WithReplyEvent: Reply answers {side_conversation, event, updates}, as
//     Create does.
//   - WithEventTicketIDAndURL: events carry ticket_id and url, which
//     Zendesk's event reference lists.
//
// # Validation
//
// The server refuses what the client refuses before sending (see
// zendesk.Message.Validate for the rules and their sources), with a 422
// RecordInvalid whose details name the field, but for a message with an
// html_body and no body, which the client will not send and the server takes
// without its html_body (see below). It accepts the rest: a reply without
// "to" (it goes to the conversation's participants other than its sender), a
// message without a body, a named Slack or Teams participant, a Slack user
// (a workspace without a channel) anywhere but as a recipient that opens a
// conversation, an agent by user_id sending to any type, a child-ticket id
// given as any string, an update that names nothing.
//
// # Where it differs from Zendesk
//
// These remain, each for its reason:
//
//   - Choices where the reference is silent. A reply to a closed
//     conversation reopens it, since a thread left closed would hide the new
//     message. Update replaces external_ids with the object sent, so that a
//     test notices keys it would lose if Zendesk does the same; an update
//     that changes nothing makes no event. html_body is rendered from body
//     as in the reference's example, <div class="zd-comment"><p>...</p></div>;
//     preview_text is a message's subject, or else the first 100 runes of
//     its body, and a conversation's is the first 120 runes of its latest
//     body. A value the server does not know is null, as name and user_id
//     are in the reference's examples.
//   - Read-only fields of a request (html_body, preview_text, attachments)
//     are ignored. The reference shows them only in answers; the client
//     never sends them.
//   - attachment_ids must name uploads made to this server, since it has no
//     others; Zendesk's own would be unknown to it.
//   - The error descriptions are the server's own words; statuses and
//     error codes are Zendesk's. A request without its message,
//     side_conversation or events object is answered 400 InvalidParameter.
//   - Rate-limit windows are fixed windows that start with the server,
//     which keeps tests deterministic; Zendesk does not document its
//     windows.
//   - There are no users: user id 1 is the agent the credentials belong to,
//     and other participants are stored as they are sent, unchecked.
//     Tickets exist only as configured, and child tickets are numbered from
//     FirstChildTicketID, past those of seeded conversations.
//   - An upload sent as application/octet-stream takes the type of its
//     file name's extension, since Go's multipart.Writer labels every file
//     so.
package zendesktest
