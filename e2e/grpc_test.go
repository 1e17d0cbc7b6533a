package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// echoService is grpc.testing.TestService, answering with what it is sent:
// the payload, the "x-echo" metadata as a header, and the status asked for
// in response_status, with an "x-reason" trailer.
type echoService struct {
	testpb.UnimplementedTestServiceServer
}

func (echoService) UnaryCall(ctx context.Context, in *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	if err := grpc.SetHeader(ctx, metadata.Pairs("x-echo", strings.Join(md.Get("x-echo"), ","))); err != nil {
		return nil, err
	}
	if st := in.GetResponseStatus(); st != nil {
		grpc.SetTrailer(ctx, metadata.Pairs("x-reason", "asked for "+codes.Code(st.Code).String()))
		return nil, status.Error(codes.Code(st.Code), st.Message)
	}
	return &testpb.SimpleResponse{Payload: in.GetPayload()}, nil
}

func (echoService) StreamingOutputCall(in *testpb.StreamingOutputCallRequest, s grpc.ServerStreamingServer[testpb.StreamingOutputCallResponse]) error {
	for _, p := range in.GetResponseParameters() {
		select {
		case <-time.After(time.Duration(p.GetIntervalUs()) * time.Microsecond):
		case <-s.Context().Done():
			return s.Context().Err()
		}
		body := bytes.Repeat([]byte{'x'}, int(p.GetSize()))
		if err := s.Send(&testpb.StreamingOutputCallResponse{Payload: &testpb.Payload{Body: body}}); err != nil {
			return err
		}
	}
	return nil
}

func (echoService) FullDuplexCall(s grpc.BidiStreamingServer[testpb.StreamingOutputCallRequest, testpb.StreamingOutputCallResponse]) error {
	for {
		in, err := s.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := s.Send(&testpb.StreamingOutputCallResponse{Payload: in.GetPayload()}); err != nil {
			return err
		}
	}
}

// grpcTarget serves echoService on loopback, over h2c or, given a CA, TLS
// with a certificate for 127.0.0.1. It returns the Gatehouse target URL.
func grpcTarget(t testing.TB, ca *testkit.CA) string {
	url, _ := grpcServer(t, ca)
	return url
}

// grpcServer is grpcTarget, also returning the server.
func grpcServer(t testing.TB, ca *testkit.CA) (string, *grpc.Server) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var opts []grpc.ServerOption
	scheme := "h2c://"
	if ca != nil {
		leaf := ca.Issue([]string{"127.0.0.1"}, testkit.LeafOptions{})
		opts = append(opts, grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{leaf.TLS}})))
		scheme = "https://"
	}
	srv := grpc.NewServer(opts...)
	testpb.RegisterTestServiceServer(srv, echoService{})
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	return scheme + ln.Addr().String(), srv
}

// grpcClient dials Gatehouse at addr: cleartext HTTP/2 when tlsConf is nil.
func grpcClient(t testing.TB, addr string, tlsConf *tls.Config) testpb.TestServiceClient {
	t.Helper()
	creds := insecure.NewCredentials()
	if tlsConf != nil {
		creds = credentials.NewTLS(tlsConf)
	}
	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return testpb.NewTestServiceClient(conn)
}

// grpcSetups are the two ways through Gatehouse under test: h2c from the
// client and to the target, and TLS on both sides.
func grpcSetups(t *testing.T) map[string]testpb.TestServiceClient {
	ca := testkit.NewCA(t, "grpc CA")
	site := ca.Issue([]string{"grpc.test"}, testkit.LeafOptions{})
	h2c := testkit.Start(t, `
listeners: [{address: "${LISTEN}", h2c: true}]
routes: [{upstream: "${T}"}]
`, testkit.Vars{"T": grpcTarget(t, nil)})
	tlsG := testkit.Start(t, `
listeners: [{address: "${LISTEN}", tls: {}}]
tls:
  certificates: [{cert: "${CERT}", key: "${KEY}"}]
upstreams:
  grpc:
    targets: ["${T}"]
    tls: {ca: "${CA}"}
routes: [{upstream: grpc}]
`, testkit.Vars{"T": grpcTarget(t, ca), "CA": ca.CertFile, "CERT": site.CertFile, "KEY": site.KeyFile})
	return map[string]testpb.TestServiceClient{
		"h2c": grpcClient(t, h2c.Addr, nil),
		"tls": grpcClient(t, tlsG.Addr, ca.ClientTLS("grpc.test", nil)),
	}
}

func grpcContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestGRPCUnary: payload, request metadata and response headers pass.
func TestGRPCUnary(t *testing.T) {
	t.Parallel()
	for name, c := range grpcSetups(t) {
		t.Run(name, func(t *testing.T) {
			ctx := metadata.AppendToOutgoingContext(grpcContext(t), "x-echo", "hello "+name)
			var header metadata.MD
			res, err := c.UnaryCall(ctx, &testpb.SimpleRequest{Payload: &testpb.Payload{Body: []byte("ping " + name)}}, grpc.Header(&header))
			if err != nil {
				t.Fatal(err)
			}
			if got := string(res.GetPayload().GetBody()); got != "ping "+name {
				t.Errorf("payload %q", got)
			}
			if got := header.Get("x-echo"); len(got) != 1 || got[0] != "hello "+name {
				t.Errorf("x-echo header %q", got)
			}
		})
	}
}

// TestGRPCStatus: a status the server returns, with its message and
// trailer metadata, arrives intact (a trailers-only response).
func TestGRPCStatus(t *testing.T) {
	t.Parallel()
	for name, c := range grpcSetups(t) {
		t.Run(name, func(t *testing.T) {
			var trailer metadata.MD
			_, err := c.UnaryCall(grpcContext(t), &testpb.SimpleRequest{ResponseStatus: &testpb.EchoStatus{
				Code: int32(codes.PermissionDenied), Message: "not yours: ünïcode & 100%",
			}}, grpc.Trailer(&trailer))
			st := status.Convert(err)
			if st.Code() != codes.PermissionDenied || st.Message() != "not yours: ünïcode & 100%" {
				t.Errorf("status %v %q", st.Code(), st.Message())
			}
			if got := trailer.Get("x-reason"); len(got) != 1 || got[0] != "asked for PermissionDenied" {
				t.Errorf("x-reason trailer %q", got)
			}
		})
	}
}

// TestGRPCServerStreaming: messages of varied sizes arrive in order.
func TestGRPCServerStreaming(t *testing.T) {
	t.Parallel()
	sizes := []int32{1, 0, 70000, 5, 1 << 20, 3}
	for name, c := range grpcSetups(t) {
		t.Run(name, func(t *testing.T) {
			req := &testpb.StreamingOutputCallRequest{}
			for _, n := range sizes {
				req.ResponseParameters = append(req.ResponseParameters, &testpb.ResponseParameters{Size: n})
			}
			s, err := c.StreamingOutputCall(grpcContext(t), req)
			if err != nil {
				t.Fatal(err)
			}
			for i, n := range sizes {
				res, err := s.Recv()
				if err != nil || len(res.GetPayload().GetBody()) != int(n) {
					t.Fatalf("message %d: %v, %d bytes, want %d", i, err, len(res.GetPayload().GetBody()), n)
				}
			}
			if _, err := s.Recv(); err != io.EOF {
				t.Errorf("end of stream: %v", err)
			}
		})
	}
}

// TestGRPCBidi: 100 messages echoed one by one, each answer received before
// the next message is sent, so the call is truly full duplex.
func TestGRPCBidi(t *testing.T) {
	t.Parallel()
	for name, c := range grpcSetups(t) {
		t.Run(name, func(t *testing.T) {
			s, err := c.FullDuplexCall(grpcContext(t))
			if err != nil {
				t.Fatal(err)
			}
			for i := range 100 {
				msg := fmt.Appendf(nil, "message %d", i)
				if err := s.Send(&testpb.StreamingOutputCallRequest{Payload: &testpb.Payload{Body: msg}}); err != nil {
					t.Fatalf("send %d: %v", i, err)
				}
				res, err := s.Recv()
				if err != nil || !bytes.Equal(res.GetPayload().GetBody(), msg) {
					t.Fatalf("echo %d: %v %q", i, err, res.GetPayload().GetBody())
				}
			}
			if err := s.CloseSend(); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Recv(); err != io.EOF {
				t.Errorf("end of stream: %v", err)
			}
		})
	}
}

// TestGRPCUpstreamDiesMidStream: a stream the target breaks off ends
// with UNAVAILABLE and a reason, after the messages already sent.
func TestGRPCUpstreamDiesMidStream(t *testing.T) {
	t.Parallel()
	target, srv := grpcServer(t, nil)
	g := testkit.Start(t, `
listeners: [{address: "${LISTEN}", h2c: true}]
routes: [{upstream: "${T}"}]
`, testkit.Vars{"T": target})
	c := grpcClient(t, g.Addr, nil)
	s, err := c.StreamingOutputCall(grpcContext(t), &testpb.StreamingOutputCallRequest{ResponseParameters: []*testpb.ResponseParameters{
		{Size: 10}, {Size: 10, IntervalUs: int32(time.Minute / time.Microsecond)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Recv(); err != nil {
		t.Fatalf("first message: %v", err)
	}
	srv.Stop() // closes the connection under the open stream
	_, err = s.Recv()
	st := status.Convert(err)
	if st.Code() != codes.Unavailable || !strings.Contains(st.Message(), "gatehouse: the response from the upstream broke off") {
		t.Errorf("got %v %q, want Unavailable from gatehouse", st.Code(), st.Message())
	}
}

// TestGRPCDeadUpstream: Gatehouse's own 502 reaches a gRPC client as
// UNAVAILABLE, while its logs keep the real status and cause.
func TestGRPCDeadUpstream(t *testing.T) {
	t.Parallel()
	dead := strings.Replace(testkit.DeadURL(t), "http://", "h2c://", 1)
	g := testkit.Start(t, `
listeners: [{address: "${LISTEN}", h2c: true}]
routes: [{upstream: "${T}"}]
`, testkit.Vars{"T": dead})
	c := grpcClient(t, g.Addr, nil)
	_, err := c.UnaryCall(grpcContext(t), &testpb.SimpleRequest{})
	st := status.Convert(err)
	if st.Code() != codes.Unavailable || !strings.Contains(st.Message(), "gatehouse: bad gateway") {
		t.Errorf("got %v %q, want Unavailable from gatehouse", st.Code(), st.Message())
	}
	e := g.Logs.Wait(t, 5*time.Second, "request failed", "status", 502)
	if !strings.Contains(e.Str("error"), "connection refused") {
		t.Errorf("error log %q lacks the cause", e.Str("error"))
	}
	a := g.Access.Wait(t, 5*time.Second, "request", "path", "/grpc.testing.TestService/UnaryCall")
	if !strings.Contains(a.Str("error"), "connection refused") {
		t.Errorf("access log %v lacks the cause", a)
	}
}

// BenchmarkGRPCUnary compares unary calls made directly to an h2c gRPC
// server with calls through Gatehouse (h2c in and out), on one connection.
func BenchmarkGRPCUnary(b *testing.B) {
	target := grpcTarget(b, nil)
	g := testkit.Start(b, `
listeners: [{address: "${LISTEN}", h2c: true}]
routes: [{upstream: "${T}"}]
`, testkit.Vars{"T": target})
	g.Logs.Discard()
	g.Access.Discard()
	for name, addr := range map[string]string{"direct": strings.TrimPrefix(target, "h2c://"), "gatehouse": g.Addr} {
		b.Run(name, func(b *testing.B) {
			c := grpcClient(b, addr, nil)
			req := &testpb.SimpleRequest{Payload: &testpb.Payload{Body: bytes.Repeat([]byte{'x'}, 256)}}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.UnaryCall(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
