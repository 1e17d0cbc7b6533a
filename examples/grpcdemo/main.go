// Command grpcdemo is a gRPC server and client for trying Gatehouse's gRPC
// proxying locally, with grpc-go's test service (no code generation):
//
//	go run ./examples/grpcdemo serve 127.0.0.1:50051   # h2c gRPC server
//	go run ./examples/grpcdemo call 127.0.0.1:8080     # through Gatehouse
//
// call makes a unary call, a bidirectional stream of five messages and a
// call the server fails with PERMISSION_DENIED, printing what comes back.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func main() {
	if len(os.Args) != 3 || (os.Args[1] != "serve" && os.Args[1] != "call") {
		fmt.Fprintln(os.Stderr, "usage: grpcdemo serve|call host:port")
		os.Exit(2)
	}
	var err error
	if os.Args[1] == "serve" {
		err = serve(os.Args[2])
	} else {
		err = call(os.Args[2])
	}
	if err != nil {
		log.Fatal(err)
	}
}

// echo answers with what it is sent, or with the status asked for.
type echo struct {
	testpb.UnimplementedTestServiceServer
}

func (echo) UnaryCall(ctx context.Context, in *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	if st := in.GetResponseStatus(); st != nil {
		grpc.SetTrailer(ctx, metadata.Pairs("x-reason", "you asked for it"))
		return nil, status.Error(codes.Code(st.Code), st.Message)
	}
	return &testpb.SimpleResponse{Payload: in.GetPayload()}, nil
}

func (echo) FullDuplexCall(s grpc.BidiStreamingServer[testpb.StreamingOutputCallRequest, testpb.StreamingOutputCallResponse]) error {
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

func serve(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := grpc.NewServer()
	testpb.RegisterTestServiceServer(srv, echo{})
	log.Printf("gRPC (h2c) on %s", ln.Addr())
	return srv.Serve(ln)
}

func call(addr string) error {
	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	c := testpb.NewTestServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	res, err := c.UnaryCall(ctx, &testpb.SimpleRequest{Payload: &testpb.Payload{Body: []byte("hello")}})
	if err != nil {
		return fmt.Errorf("unary: %v", err)
	}
	fmt.Printf("unary: %s\n", res.GetPayload().GetBody())

	s, err := c.FullDuplexCall(ctx)
	if err != nil {
		return fmt.Errorf("bidi: %v", err)
	}
	for i := range 5 {
		msg := fmt.Sprintf("message %d", i)
		if err := s.Send(&testpb.StreamingOutputCallRequest{Payload: &testpb.Payload{Body: []byte(msg)}}); err != nil {
			return fmt.Errorf("bidi send: %v", err)
		}
		r, err := s.Recv()
		if err != nil {
			return fmt.Errorf("bidi receive: %v", err)
		}
		fmt.Printf("bidi: sent %q, got %q\n", msg, r.GetPayload().GetBody())
	}
	s.CloseSend()

	var trailer metadata.MD
	_, err = c.UnaryCall(ctx, &testpb.SimpleRequest{ResponseStatus: &testpb.EchoStatus{
		Code: int32(codes.PermissionDenied), Message: "not yours"}}, grpc.Trailer(&trailer))
	st := status.Convert(err)
	fmt.Printf("error: %s %q, trailer x-reason=%q\n", st.Code(), st.Message(), trailer.Get("x-reason"))
	return nil
}
