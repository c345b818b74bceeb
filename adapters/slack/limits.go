package slack

import "time"

// Block Kit limits, from PLATFORM.md ("Block Kit limits") unless noted.
const (
	// maxMessageBlocks: 50 blocks per message.
	maxMessageBlocks = 50
	// maxModalBlocks: 100 blocks per modal.
	maxModalBlocks = 100
	// maxSectionText: section text is at most 3,000 characters.
	maxSectionText = 3000
	// maxSectionFields: a section holds at most 10 fields...
	maxSectionFields = 10
	// maxFieldText: ...of at most 2,000 characters each.
	maxFieldText = 2000
	// maxActionElements: at most 25 elements per actions block.
	maxActionElements = 25
	// maxSelectOptions: at most 100 options per static select (and per
	// external select answer).
	maxSelectOptions = 100
	// maxModalTitle: modal title, submit and close labels are at most 24
	// characters.
	maxModalTitle = 24
	// maxPrivateMetadata: a view's private_metadata is at most 3,000
	// characters.
	maxPrivateMetadata = 3000
	// maxID: block and action ids are at most 255 characters.
	maxID = 255
	// maxMessageText: message text is truncated by Slack past 40,000
	// characters; we keep the notification text far shorter.
	maxMessageText = 3000

	// The following come from Slack's Block Kit reference (block and
	// composition object pages), not from PLATFORM.md.

	// maxHeaderText: a header block's plain text is at most 150 characters.
	maxHeaderText = 150
	// maxButtonText: a button's text is at most 75 characters.
	maxButtonText = 75
	// maxButtonValue: a button's value is at most 2,000 characters.
	maxButtonValue = 2000
	// maxOptionText: an option's text is at most 75 characters.
	maxOptionText = 75
	// maxOptionValue: an option's value is at most 150 characters.
	maxOptionValue = 150
	// maxPlaceholder: a placeholder is at most 150 characters.
	maxPlaceholder = 150
	// maxLabel: an input block's label is at most 2,000 characters.
	maxLabel = 2000
	// maxURL: a button's URL is at most 3,000 characters.
	maxURL = 3000
)

// Timing rules, from PLATFORM.md.
const (
	// ackTimeout: Slack waits 3 s for the acknowledgement of a slash
	// command, block action or view submission.
	ackTimeout = 3 * time.Second
	// answerBudget is how long a slash command or view submission waits
	// for the engine before acknowledging without the answer; it leaves a
	// second of ackTimeout for the network.
	answerBudget = 2 * time.Second
	// triggerLifetime: a trigger_id expires after 3 s and works once. A
	// modal is opened only if the form is ready within triggerBudget of
	// the request's arrival.
	triggerLifetime = 3 * time.Second
	triggerBudget   = triggerLifetime - 500*time.Millisecond
	// responseURLUses and responseURLLifetime: a response_url allows 5
	// uses within 30 minutes.
	responseURLUses     = 5
	responseURLLifetime = 30 * time.Minute
	// signatureWindow: requests whose timestamp is more than 5 minutes
	// away from now are refused.
	signatureWindow = 5 * time.Minute
	// eventDedupeTTL: Slack retries an event at once, after 1 minute and
	// after 5 minutes; event ids are remembered for longer than that.
	eventDedupeTTL = 10 * time.Minute
	// channelInterval: chat.postMessage allows about 1 message per second
	// per channel.
	channelInterval = time.Second
	// maxSocketAck: Socket Mode acks of 20 KB or more are dropped
	// silently; stay below it.
	maxSocketAck = 20*1024 - 1

	// workTimeout bounds the background work of one request (late
	// answers, follow-ups).
	workTimeout = 2 * time.Minute
	// maxBody bounds a request body read before verification.
	maxBody = 1 << 20
)
