package tlsinfo

import "context"

// Verifications returns how many chain verifications ran on the connection
// whose context is ctx, or -1 when ctx carries no ConnContext state.
func Verifications(ctx context.Context) int {
	c, ok := ctx.Value(connKey{}).(*conn)
	if !ok {
		return -1
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.verifications
}
