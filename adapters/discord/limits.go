package discord

import "time"

// Discord's limits. The ones PLATFORM.md lists are cited from there; the
// others come from Discord's developer documentation (Message, Embed,
// Component and Application Command resources).
const (
	// maxContent is a message's content length (PLATFORM.md, Discord: limits).
	maxContent = 2000
	// maxEmbedDescription is an embed description's length (PLATFORM.md).
	maxEmbedDescription = 4096
	// maxEmbedFields is the number of fields in one embed (PLATFORM.md).
	maxEmbedFields = 25
	// maxSelectOptions is the number of options of a select menu (PLATFORM.md).
	maxSelectOptions = 25
	// maxButtonsPerRow is the number of buttons in one action row (PLATFORM.md).
	maxButtonsPerRow = 5
	// maxRows is the number of action rows in one message (PLATFORM.md).
	maxRows = 5
	// maxModalInputs is the number of text inputs a modal holds (PLATFORM.md).
	maxModalInputs = 5
	// maxNameLen bounds command and option names, 1–32 lower-case
	// characters (PLATFORM.md).
	maxNameLen = 32
	// maxDescription bounds command and option descriptions (PLATFORM.md).
	maxDescription = 100
	// maxOptions is the number of options (or subcommands) of a command
	// (PLATFORM.md).
	maxOptions = 25

	// Discord documentation, Embed limits.
	maxEmbedTitle      = 256
	maxFieldName       = 256
	maxFieldValue      = 1024
	maxEmbedsPerMsg    = 10
	maxEmbedTotalChars = 6000
	// Discord documentation, Component reference.
	maxCustomID        = 100
	maxButtonLabel     = 80
	maxSelectHolder    = 150
	maxOptionText      = 100
	maxModalTitle      = 45
	maxInputLabel      = 45
	maxInputHolder     = 100
	maxInputValue      = 4000
	maxAutocompleteOpt = 25
	maxChoiceText      = 100

	// Discord documentation, Uploading Files: at most 10 attachments per
	// message and, without server boosts, 10 MiB per request.
	maxAttachments = 10
	maxUploadBytes = 10 << 20

	// maxMessages caps how many messages one reply is split into; what
	// is left is replaced by a link to the portal.
	maxMessages = 10
)

// Timing of interactions.
const (
	// responseDeadline is Discord's limit for the initial response
	// (PLATFORM.md, Discord: timing): answer within 3 s or defer.
	responseDeadline = 3 * time.Second
	// defaultDeferAfter leaves a margin under responseDeadline for the
	// network and Discord's own clock.
	defaultDeferAfter = 2 * time.Second
	// tokenLifetime is how long an interaction token allows follow-ups
	// and edits (PLATFORM.md, Discord: timing: 15 minutes).
	tokenLifetime = 15 * time.Minute
	// signatureWindow is how old (or how far in the future) a signed
	// request's X-Signature-Timestamp may be; discordgo.VerifyInteraction
	// does not check it (PLATFORM.md, Discord: HTTP interactions).
	signatureWindow = 5 * time.Minute
	// maxBody bounds an interaction request's body. A modal submission
	// of five 4,000-character inputs is about 20 KB; resolved data adds
	// little more.
	maxBody = 256 << 10
	// formLifetime is how long an open form's typed values are kept.
	formLifetime = time.Hour
)
