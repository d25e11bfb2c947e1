import CRdKafka
import Logging

/// librdkafka's own log lines, routed to swift-log under the label "odl.kafka".
let kafkaLogger = Logger(label: "odl.kafka")

/// librdkafka log callback (syslog levels); runs on librdkafka's internal threads.
func kafkaLogCallback(_ rk: OpaquePointer?, _ level: Int32, _ facility: UnsafePointer<CChar>?,
                      _ message: UnsafePointer<CChar>?) {
    let swiftLevel: Logger.Level
    switch level {
    case ...2: swiftLevel = .critical
    case 3: swiftLevel = .error
    case 4: swiftLevel = .warning
    case 5: swiftLevel = .notice
    case 6: swiftLevel = .info
    default: swiftLevel = .debug
    }
    let fac = facility.map { String(cString: $0) } ?? "-"
    let text = message.map { String(cString: $0) } ?? ""
    kafkaLogger.log(level: swiftLevel, "\(fac): \(text)")
}
