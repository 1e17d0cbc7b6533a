package h1client

// SetSenderDone makes f run when a request body's sender is done, before
// it sets the response head's deadline; the returned func undoes it.
func SetSenderDone(f func()) (undo func()) {
	senderDone = f
	return func() { senderDone = func() {} }
}
