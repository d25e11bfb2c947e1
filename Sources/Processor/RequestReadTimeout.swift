import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes

/// HTTP/1 child channel that bounds how long a client may take to send one request: from the
/// request's first byte until its last, at most `readTimeout`, else the server answers 408 and
/// closes the connection. Hummingbird's own `idleTimeout` only closes connections that send
/// nothing; a client trickling a header byte by byte would hold a connection forever.
struct ReadTimeoutHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let responder: HTTPChannelHandler.Responder
    let configuration: HTTP1Channel.Configuration
    let readTimeout: TimeAmount
    let onTimeout: @Sendable () -> Void

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let readTimeout = readTimeout, onTimeout = onTimeout
        let loop = channel.eventLoop
        let added: EventLoopFuture<NIOLoopBound<RequestDeadline>> = loop.makeCompletedFuture {
            let deadline = RequestDeadline(timeout: readTimeout, onTimeout: onTimeout)
            // First in the pipeline: it sees raw bytes before the HTTP decoder.
            try channel.pipeline.syncOperations.addHandler(RequestStartHandler(deadline: deadline), position: .first)
            return NIOLoopBound(deadline, eventLoop: loop)
        }
        return added.flatMap { bound in
            var config = configuration
            let extra = configuration.additionalChannelHandlers
            config.additionalChannelHandlers = { [RequestEndHandler(deadline: bound.value)] + extra() }
            return HTTP1Channel(responder: responder, configuration: config).setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await HTTP1Channel(responder: responder, configuration: configuration).handle(value: value, logger: logger)
    }
}

/// One connection's request deadline; lives on the connection's event loop (shared by its two handlers).
final class RequestDeadline {
    let timeout: TimeAmount
    let onTimeout: @Sendable () -> Void
    /// The pending deadline while a request is being received.
    var timer: Scheduled<Void>?

    init(timeout: TimeAmount, onTimeout: @escaping @Sendable () -> Void) {
        self.timeout = timeout
        self.onTimeout = onTimeout
    }

    /// The request is complete: no deadline until the next one starts.
    func finish() {
        timer?.cancel()
        timer = nil
    }
}

/// Starts the deadline at the first byte of a request (raw bytes, before HTTP decoding).
final class RequestStartHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let deadline: RequestDeadline
    /// After a timeout: the 408 is sent and the write side closed; what still arrives is dropped.
    private var timedOut = false

    init(deadline: RequestDeadline) { self.deadline = deadline }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if timedOut { return }
        if deadline.timer == nil {
            let bound = NIOLoopBound((context: context, handler: self), eventLoop: context.eventLoop)
            deadline.timer = context.eventLoop.scheduleTask(in: deadline.timeout) { bound.value.handler.expire(bound.value.context) }
        }
        context.fireChannelRead(data)
    }

    /// Answer 408, close the write side (FIN, so the answer is not lost to a reset while the client
    /// still sends), keep draining for a second, then close.
    private func expire(_ context: ChannelHandlerContext) {
        timedOut = true
        deadline.timer = nil
        deadline.onTimeout()
        let seconds = Double(deadline.timeout.nanoseconds) / 1e9
        let body = "request not received completely within the read timeout of \(seconds) s\n"
        let head = "HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain; charset=utf-8\r\n"
            + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n"
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(NIOAny(context.channel.allocator.buffer(string: head + body))).whenComplete { _ in
            let context = bound.value
            context.close(mode: .output, promise: nil)
            context.eventLoop.scheduleTask(in: .seconds(1)) { bound.value.close(promise: nil) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline.finish()
        context.fireChannelInactive()
    }
}

/// Ends the deadline when the decoder has seen the request's end.
final class RequestEndHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    let deadline: RequestDeadline

    init(deadline: RequestDeadline) { self.deadline = deadline }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = unwrapInboundIn(data) { deadline.finish() }
        context.fireChannelRead(data)
    }
}
