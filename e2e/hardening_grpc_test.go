package e2e

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// cancelService is echoService whose server stream reports when its
// context ends.
type cancelService struct {
	echoService
	ended chan error
}

func (s cancelService) StreamingOutputCall(in *testpb.StreamingOutputCallRequest, ss grpc.ServerStreamingServer[testpb.StreamingOutputCallResponse]) error {
	ss.Send(&testpb.StreamingOutputCallResponse{})
	<-ss.Context().Done()
	s.ended <- ss.Context().Err()
	return ss.Context().Err()
}

// grpcServerWith serves svc over h2c with opts and returns its h2c:// URL.
func grpcServerWith(t *testing.T, svc testpb.TestServiceServer, opts ...grpc.ServerOption) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(opts...)
	testpb.RegisterTestServiceServer(srv, svc)
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	return "h2c://" + ln.Addr().String()
}

// TestGRPCToHTTP1Upstream: a gRPC call routed to an http:// target (which
// Gatehouse speaks HTTP/1.1 to) ends promptly with a gRPC status, whether
// the target is a gRPC server, which cannot answer HTTP/1.1 (Gatehouse
// says Unavailable: 502, never the 504 of a timeout, since nothing timed
// out), or a plain web server, whose 200 text/plain answer the gRPC
// client itself refuses as Unknown; it does not hang.
func TestGRPCToHTTP1Upstream(t *testing.T) {
	t.Parallel()
	grpcAddr := strings.TrimPrefix(grpcServerWith(t, echoService{}), "h2c://")
	web := testkit.NewBackend(t, "web", testkit.Echo())
	for name, tc := range map[string]struct {
		target    string
		code      codes.Code
		fromProxy bool // the status is Gatehouse's own answer
	}{
		"grpc server": {"http://" + grpcAddr, codes.Unavailable, true},
		"web server":  {web.URL, codes.Unknown, false},
	} {
		t.Run(name, func(t *testing.T) {
			g := testkit.Start(t, `
listeners: [{address: "${LISTEN}", h2c: true}]
routes: [{upstream: "${T}"}]
`, testkit.Vars{"T": tc.target})
			c := grpcClient(t, g.Addr, nil)
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			start := time.Now()
			_, err := c.UnaryCall(ctx, &testpb.SimpleRequest{})
			st := status.Convert(err)
			if st.Code() != tc.code || tc.fromProxy && !strings.HasPrefix(st.Message(), "gatehouse:") || time.Since(start) > 3*time.Second {
				t.Errorf("got %v %q after %s, want a prompt %v", st.Code(), st.Message(), time.Since(start), tc.code)
			}
			t.Logf("client sees %v: %s", st.Code(), st.Message())
		})
	}
}

// TestGRPCLargeMessages: 5 MiB messages pass both ways.
func TestGRPCLargeMessages(t *testing.T) {
	t.Parallel()
	const size = 5 << 20
	target := grpcServerWith(t, echoService{}, grpc.MaxRecvMsgSize(16<<20), grpc.MaxSendMsgSize(16<<20))
	g := testkit.Start(t, `
listeners: [{address: "${LISTEN}", h2c: true}]
routes: [{upstream: "${T}"}]
`, testkit.Vars{"T": target})
	c := grpcClient(t, g.Addr, nil)
	body := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	res, err := c.UnaryCall(grpcContext(t), &testpb.SimpleRequest{Payload: &testpb.Payload{Body: body}},
		grpc.MaxCallRecvMsgSize(16<<20), grpc.MaxCallSendMsgSize(16<<20))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(res.GetPayload().GetBody(), body) {
		t.Errorf("got %d bytes back, want the %d sent", len(res.GetPayload().GetBody()), size)
	}
}

// TestGRPCCancellationReachesServer: a client cancelling a stream ends
// the server's stream context too, so the upstream stops working for a
// client that went away.
func TestGRPCCancellationReachesServer(t *testing.T) {
	t.Parallel()
	svc := cancelService{ended: make(chan error, 1)}
	g := testkit.Start(t, `
listeners: [{address: "${LISTEN}", h2c: true}]
routes: [{upstream: "${T}"}]
`, testkit.Vars{"T": grpcServerWith(t, svc)})
	c := grpcClient(t, g.Addr, nil)
	ctx, cancel := context.WithCancel(t.Context())
	s, err := c.StreamingOutputCall(ctx, &testpb.StreamingOutputCallRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Recv(); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := wait(t, svc.ended, "the server's stream context to end"); err == nil {
		t.Error("no error on the server's context")
	}
}
