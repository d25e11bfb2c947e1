import Foundation
import Testing
@testable import Config

/// Damaged input never crashes the loader: it loads or throws a ConfigError.
@Suite struct RobustnessTests {
    /// Deterministic xorshift generator so failures reproduce.
    struct XorShift: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
    }

    @Test func mutatedConfigsLoadOrThrow() throws {
        let original = Array(try String(contentsOfFile: fixture("online_incr_kafka.config"), encoding: .utf8).utf8)
        let alphabet = Array("{}<>[]:;,'\"\\#-.0123456789eExX_abcfintu \n".utf8)
        var rng = XorShift(state: 0x9E3779B97F4A7C15)
        var loaded = 0
        var failed = 0
        for _ in 0..<400 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let i = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: bytes.remove(at: i)
                case 1: bytes.insert(alphabet.randomElement(using: &rng) ?? 0x20, at: i)
                default: bytes[i] = alphabet.randomElement(using: &rng) ?? 0x20
                }
            }
            do {
                _ = try PipelineConfig.load(text: String(decoding: bytes, as: UTF8.self))
                loaded += 1
            } catch {
                #expect(!error.reason.isEmpty)
                failed += 1
            }
        }
        #expect(loaded + failed == 400 && failed > 100)
    }

    @Test func deepNestingIsAnError() throws {
        let text = String(repeating: "a { ", count: 5000) + String(repeating: "} ", count: 5000)
        let e = try #require(configError { _ = try PipelineConfig.load(text: text) })
        #expect(e.kind == .syntax && e.reason.contains("nested"))
    }

    @Test func editsNeverCrash() throws {
        let base = try PipelineConfig.load(path: fixture("online_incr_kafka.config"))
        let paths = ["a", "a.b", ".", "x[", "x]", "feature_config.features[", "feature_config.features[]",
                     "feature_config.features[-1].x", "feature_config.features[a=].x", "feature_config..features",
                     "model_config.feature_groups[0].feature_names[99]", "train_config[0]", "model_dir.x.y"]
        for p in paths {
            var c = base
            let e = try #require(configError { try c.applyEdits(json: "{\"\(p)\": 1}") }, "\(p)")
            #expect(e.path == p)
            #expect(c == base)
        }
    }
}
