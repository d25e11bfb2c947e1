import FG
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Throughput benchmark of FG evaluation plus column encoding (wired into `make bench` by the
/// coordinator; `odl fg --bench` runs it).
package enum FGBenchmark {
    /// A 20-feature fg.json: 8 user ids, 5 item ids, 3 raw, 2 combo, 2 lookup.
    package static let configJSON = """
    {"features": [
      {"feature_type":"id_feature","feature_name":"user_id","expression":"user:user_id","hash_bucket_size":100000},
      {"feature_type":"id_feature","feature_name":"cms_segid","expression":"user:cms_segid","hash_bucket_size":100},
      {"feature_type":"id_feature","feature_name":"cms_group_id","expression":"user:cms_group_id","hash_bucket_size":100},
      {"feature_type":"id_feature","feature_name":"age_level","expression":"user:age_level","hash_bucket_size":10},
      {"feature_type":"id_feature","feature_name":"pvalue_level","expression":"user:pvalue_level","hash_bucket_size":10},
      {"feature_type":"id_feature","feature_name":"shopping_level","expression":"user:shopping_level","hash_bucket_size":10},
      {"feature_type":"id_feature","feature_name":"occupation","expression":"user:occupation","hash_bucket_size":10},
      {"feature_type":"id_feature","feature_name":"user_tag_cate","expression":"user:tag_category_list","hash_bucket_size":100000,"is_multi":true},
      {"feature_type":"id_feature","feature_name":"adgroup_id","expression":"item:adgroup_id","hash_bucket_size":100000},
      {"feature_type":"id_feature","feature_name":"cate_id","expression":"item:cate_id","hash_bucket_size":100000},
      {"feature_type":"id_feature","feature_name":"campaign_id","expression":"item:campaign_id","hash_bucket_size":100000},
      {"feature_type":"id_feature","feature_name":"customer","expression":"item:customer","hash_bucket_size":100000},
      {"feature_type":"id_feature","feature_name":"brand","expression":"item:brand","hash_bucket_size":100000},
      {"feature_type":"raw_feature","feature_name":"price","expression":"item:price"},
      {"feature_type":"raw_feature","feature_name":"price_bucket","expression":"item:price","bucketize_boundaries":"10,20,30,40,50,60"},
      {"feature_type":"raw_feature","feature_name":"ctr","expression":"item:ctr","normalizer":"method=log10,threshold=0.0001","boundaries":[-3,-2,-1]},
      {"feature_type":"combo_feature","feature_name":"age_cate","expression":["user:age_level","item:cate_id"],"hash_bucket_size":10000},
      {"feature_type":"combo_feature","feature_name":"seg_brand","expression":["user:cms_segid","item:brand"],"hash_bucket_size":10000},
      {"feature_type":"lookup_feature","feature_name":"combo_brand","map":"user:tag_brand_list","key":"item:brand","hash_bucket_size":100000},
      {"feature_type":"lookup_feature","feature_name":"combo_cate_id","map":"user:tag_category_list","key":"item:cate_id","hash_bucket_size":10000}
    ], "reserves": ["clk"], "multi_val_sep": "|"}
    """

    /// A request with `items` items: user features, and per-item ids, prices and ctrs.
    package static func makeRequest(items: Int, seed: Int = 0) -> FGRequest {
        var user: [String: FeatureValue] = [
            "user_id": .string("u\(100_000 + seed)"), "cms_segid": .int(12), "cms_group_id": .int(3),
            "age_level": .int(4), "pvalue_level": .int(2), "shopping_level": .int(3), "occupation": .int(1),
        ]
        user["tag_category_list"] = .string((0..<20).map { "c\($0 * 7):\($0 % 5 + 1)" }.joined(separator: "\u{1d}"))
        user["tag_brand_list"] = .string((0..<30).map { "b\($0 * 11):\($0 % 4 + 1)" }.joined(separator: "\u{1d}"))
        var ids: [String] = []
        var f: [String: [FeatureValue]] = [:]
        for i in 0..<items {
            ids.append("item\(seed * 1000 + i)")
            f["adgroup_id", default: []].append(.int(Int64(500_000 + i)))
            f["cate_id", default: []].append(.string("c\(i % 40)"))
            f["campaign_id", default: []].append(.int(Int64(30_000 + i / 3)))
            f["customer", default: []].append(.int(Int64(9_000 + i / 5)))
            f["brand", default: []].append(.string("b\(i % 60)"))
            f["price", default: []].append(.float(Double(i % 70) + 0.5))
            f["ctr", default: []].append(.float(0.001 * Double(i % 50 + 1)))
        }
        return FGRequest(userFeatures: user, itemIds: ids, itemFeatures: f)
    }

    /// Run `iterations` requests of 100 items through FG and column encoding; returns one line
    /// with item-features per second (items x features / elapsed), excluding request building.
    package static func run(iterations: Int) -> String {
        let iterations = max(1, iterations)
        do {
            let config = try FGConfig(jsonString: configJSON)
            let plan = FGPlan(config: config)
            let encoder = try ColumnEncoder(specs: try config.columnSpecs(), layout: plan.outputNames)
            let requests = (0..<8).map { makeRequest(items: 100, seed: $0) }
            var batch = plan.makeBatch()
            var encoded = EncodedBatch(columnCount: encoder.specs.count)
            var checksum: Int64 = 0
            for r in requests {  // warm-up: grow the buffers
                try plan.evaluate(r, into: &batch)
                try encoder.encode(batch, into: &encoded)
            }
            let allocationsBefore = allocationCount()
            let clock = ContinuousClock()
            let cpuStart = threadCPUSeconds()
            let start = clock.now
            for i in 0..<iterations {
                try plan.evaluate(requests[i % requests.count], into: &batch)
                try encoder.encode(batch, into: &encoded)
                checksum &+= encoded.columns[i % encoded.columns.count].ids.last ?? 0
            }
            let elapsed = clock.now - start
            let cpuSeconds = threadCPUSeconds().map { $0 - (cpuStart ?? 0) }
            let allocationsAfter = allocationCount()
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            let itemFeatures = Double(iterations * 100 * config.features.count)
            let rate = itemFeatures / max(seconds, 1e-9)
            let perRequest = seconds / Double(iterations) * 1e6
            var allocations = ""
            if let a = allocationsBefore, let b = allocationsAfter {
                allocations = ", heap allocations/request: \(Double(b - a) / Double(iterations))"
            }
            var cpu = ""
            if let c = cpuSeconds, c > 0 {
                cpu = " (thread CPU time: \(Int(itemFeatures / c)) item-features/s, \(Int(c / Double(iterations) * 1e6)) us/request)"
            }
            return "fg: \(config.features.count) features x 100 items, \(iterations) requests: "
                + "\(Int(rate)) item-features/s (FG + column encoding), \(Int(perRequest)) us/request wall" + cpu
                + allocations + " [checksum \(checksum)]"
        } catch {
            return "fg: benchmark failed: \(error)"
        }
    }

    /// Run a given config on a given request `iterations` times (FG + encoding with the config's
    /// own columns); reports throughput and, with the allocation shim preloaded, allocations.
    package static func run(iterations: Int, config: FGConfig, request: FGRequest) -> String {
        do {
            let plan = FGPlan(config: config)
            let encoder = try ColumnEncoder(specs: try config.columnSpecs(), layout: plan.outputNames)
            var batch = plan.makeBatch()
            var encoded = EncodedBatch(columnCount: encoder.specs.count)
            try plan.evaluate(request, into: &batch)
            try encoder.encode(batch, into: &encoded)
            let before = allocationCount()
            let cpuStart = threadCPUSeconds()
            for _ in 0..<max(1, iterations) {
                try plan.evaluate(request, into: &batch)
                try encoder.encode(batch, into: &encoded)
            }
            let cpu = (threadCPUSeconds() ?? 0) - (cpuStart ?? 0)
            let after = allocationCount()
            var line = "fg: \(config.features.count) features x \(request.itemIds.count) items: "
                + "\(Int(cpu / Double(max(1, iterations)) * 1e6)) us/request (thread CPU time)"
            if let a = before, let b = after { line += ", heap allocations/request: \(Double(b - a) / Double(max(1, iterations)))" }
            return line
        } catch {
            return "fg: benchmark failed: \(error)"
        }
    }

    /// CPU time of the calling thread (less sensitive than wall time to other processes).
    static func threadCPUSeconds() -> Double? {
        #if canImport(Glibc)
        var ts = timespec()
        guard clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0 else { return nil }
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
        #else
        return nil
        #endif
    }

    /// Process-wide heap allocation count when an allocation-counting `malloc` shim exporting
    /// `fg_alloc_count` is preloaded (LD_PRELOAD); nil otherwise.
    static func allocationCount() -> UInt? {
        #if canImport(Glibc)
        guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "fg_alloc_count") else { return nil }
        typealias Counter = @convention(c) () -> UInt
        return unsafeBitCast(sym, to: Counter.self)()
        #else
        return nil
        #endif
    }
}
