import Foundation

/// Date-time strings used by EasyRec configs (`dead_line`, `offset_time`).
public enum ConfigTime {
    /// Parses "YYYYmmdd HH:MM:SS" as a wall-clock time in `timeZone` and returns unix seconds.
    /// EasyRec uses Python's `time.mktime(time.strptime(s, "%Y%m%d %H:%M:%S"))`, i.e. the
    /// machine's local time zone, hence the default `.current` (UTC on the odl machines).
    public static func parseDateTime(_ s: String, timeZone: TimeZone = .current) -> Int64? {
        let t = s.trimmingCharacters(in: .whitespaces)
        let parts = t.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].count == 8, parts[0].allSatisfy(\.isASCII), parts[0].allSatisfy(\.isNumber) else {
            return nil
        }
        let d = parts[0]
        let clock = parts[1].split(separator: ":", omittingEmptySubsequences: false)
        guard clock.count == 3, clock.allSatisfy({ (1...2).contains($0.count) && $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              let year = Int(d.prefix(4)), let month = Int(d.dropFirst(4).prefix(2)), let day = Int(d.suffix(2)),
              let hour = Int(clock[0]), let minute = Int(clock[1]), let second = Int(clock[2]),
              (1...12).contains(month), (1...31).contains(day), (0...23).contains(hour),
              (0...59).contains(minute), (0...61).contains(second) else {
            return nil
        }
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = timeZone
        let comps = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        guard let date = cal.date(from: comps) else { return nil }
        // Reject dates that the calendar rolled over (e.g. Feb 30).
        let back = cal.dateComponents([.year, .month, .day], from: date)
        guard back.year == year, back.month == month, back.day == day else { return nil }
        return Int64(date.timeIntervalSince1970.rounded(.down))
    }

    /// `offset_time`: unix seconds ("1650765731") or "YYYYmmdd HH:MM:SS" (see parseDateTime).
    public static func parseTimestamp(_ s: String, timeZone: TimeZone = .current) -> Int64? {
        let t = s.trimmingCharacters(in: .whitespaces)
        if !t.isEmpty, t.allSatisfy({ $0.isASCII && $0.isNumber }) { return Int64(t) }
        return parseDateTime(t, timeZone: timeZone)
    }
}

extension EasyRec_TrainConfig {
    /// `dead_line` as unix seconds (nil when unset or empty); a malformed value is an error.
    public func deadLineSeconds(timeZone: TimeZone = .current) throws(ConfigError) -> Int64? {
        guard hasDeadLine, !deadLine.isEmpty else { return nil }
        guard let s = ConfigTime.parseDateTime(deadLine, timeZone: timeZone) else {
            throw ConfigError(.badValue, path: "train_config.dead_line",
                              reason: "dead_line \"\(deadLine)\" is not \"YYYYmmdd HH:MM:SS\"")
        }
        return s
    }
}
