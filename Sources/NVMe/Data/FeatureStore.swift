/// Controller-wide feature state for Get/Set Features: current values next to
/// the spec (or configured) defaults. Nothing is saveable (ONCS bit 4 aside,
/// there is no non-volatile store), so SEL=saved reports the default, as the
/// spec requires for features that are not saveable.
public struct FeatureStore: Sendable, Hashable {
  /// What the controller offers; fixed for its lifetime.
  public struct Limits: Sendable, Hashable {
    public var maximumIOQueues: UInt16
    public var interruptVectors: Int
    public var warningTemperature: UInt16
    public var temperatureSensors: Int
    /// NPSS: highest valid power state.
    public var npss: UInt8
    public var volatileWriteCachePresent: Bool
    /// Mask of Asynchronous Event Configuration bits the host may enable:
    /// SMART warnings in 7:0 plus the OAES notice bits.
    public var asyncEventMask: UInt32
    /// KAS in 100 ms units; 0 = Keep Alive Timer unsupported.
    public var keepAliveGranularity: UInt16
    /// DULBE may be set only when a namespace reports NSFEAT.DAE.
    public var deallocatedErrorSupported: Bool

    public init(
      maximumIOQueues: UInt16, interruptVectors: Int, warningTemperature: UInt16 = 343,
      temperatureSensors: Int = 0, npss: UInt8 = 0, volatileWriteCachePresent: Bool = true,
      asyncEventMask: UInt32 = 0xFF | ControllerIdentity.OAES.namespaceAttributeNotices,
      keepAliveGranularity: UInt16 = 0, deallocatedErrorSupported: Bool = false
    ) {
      self.maximumIOQueues = maximumIOQueues
      self.interruptVectors = interruptVectors
      self.warningTemperature = warningTemperature
      self.temperatureSensors = temperatureSensors
      self.npss = npss
      self.volatileWriteCachePresent = volatileWriteCachePresent
      self.asyncEventMask = asyncEventMask
      self.keepAliveGranularity = keepAliveGranularity
      self.deallocatedErrorSupported = deallocatedErrorSupported
    }
  }

  /// The value set of every supported feature.
  public struct Values: Sendable, Hashable {
    /// Arbitration: AB 2:0 (111b = no burst limit), LPW/MPW/HPW in the upper bytes.
    public var arbitration: UInt32 = 0b111
    /// Power Management: PS 4:0, WH 7:5.
    public var powerManagement: UInt32 = 0
    public var temperature: TemperatureThresholds
    /// Error Recovery: TLER 15:0 (100 ms units), DULBE bit 16.
    public var errorRecovery: UInt32 = 0
    public var volatileWriteCacheEnabled: Bool
    public var queues: NumberOfQueues
    /// Interrupt Coalescing: THR 7:0 (0-based entries), TIME 15:8 (100 us units).
    public var interruptCoalescing: UInt32 = 0
    public var interruptVectors: InterruptVectorConfiguration
    /// Write Atomicity Normal: DN bit 0.
    public var writeAtomicityNormal: UInt32 = 0
    public var asyncEventConfiguration: UInt32 = 0
    /// Keep Alive Timeout in milliseconds; 0 = disabled.
    public var keepAliveTimeout: UInt32 = 0
    public var hostBehavior = HostBehaviorSupport()
  }

  public let limits: Limits
  public private(set) var current: Values
  public let defaults: Values
  public private(set) var timestamp: TimestampFeature

  public init(limits: Limits, now: UInt64 = 0) {
    self.limits = limits
    let values = Values(
      temperature: TemperatureThresholds(
        warningTemperature: limits.warningTemperature,
        implementedSensors: limits.temperatureSensors),
      volatileWriteCacheEnabled: limits.volatileWriteCachePresent,
      queues: NumberOfQueues(maximum: limits.maximumIOQueues),
      interruptVectors: InterruptVectorConfiguration(vectorCount: limits.interruptVectors))
    current = values
    defaults = values
    timestamp = TimestampFeature(resetAt: now)
  }

  /// Features this store answers for; others get Invalid Field from the caller.
  public func isSupported(_ id: FeatureID) -> Bool {
    switch id {
    case .arbitration, .powerManagement, .temperatureThreshold, .errorRecovery,
      .numberOfQueues, .interruptCoalescing, .interruptVectorConfiguration,
      .writeAtomicityNormal, .asynchronousEventConfiguration, .timestamp,
      .hostBehaviorSupport:
      return true
    case .volatileWriteCache: return limits.volatileWriteCachePresent
    case .keepAliveTimer: return limits.keepAliveGranularity != 0
    default: return false
    }
  }

  /// SEL=011b: every supported feature is changeable, none saveable; Error
  /// Recovery is namespace specific (its DULBE bit is per namespace).
  public func capabilities(_ id: FeatureID) -> FeatureCapabilities {
    id == .errorRecovery ? [.changeable, .namespaceSpecific] : [.changeable]
  }

  /// Get Features. `cdw11` selects the sensor/vector where the feature has one;
  /// `now` is monotonic milliseconds for the timestamp. nil = Invalid Field.
  public func get(
    _ id: FeatureID, select: FeatureSelect, cdw11: UInt32 = 0, now: UInt64 = 0
  ) -> FeatureReply? {
    guard isSupported(id) else { return nil }
    let values: Values
    switch select {
    case .supportedCapabilities: return FeatureReply(dword0: capabilities(id).rawValue)
    case .current: values = current
    case .defaultValue, .saved: values = defaults
    }
    switch id {
    case .arbitration: return FeatureReply(dword0: values.arbitration)
    case .powerManagement: return FeatureReply(dword0: values.powerManagement)
    case .temperatureThreshold:
      return values.temperature.get(cdw11: cdw11).map { FeatureReply(dword0: $0) }
    case .errorRecovery: return FeatureReply(dword0: values.errorRecovery)
    case .volatileWriteCache:
      return FeatureReply(dword0: values.volatileWriteCacheEnabled ? 1 : 0)
    case .numberOfQueues: return FeatureReply(dword0: values.queues.dword0)
    case .interruptCoalescing: return FeatureReply(dword0: values.interruptCoalescing)
    case .interruptVectorConfiguration:
      return values.interruptVectors.get(cdw11: cdw11).map { FeatureReply(dword0: $0) }
    case .writeAtomicityNormal: return FeatureReply(dword0: values.writeAtomicityNormal)
    case .asynchronousEventConfiguration:
      return FeatureReply(dword0: values.asyncEventConfiguration)
    case .keepAliveTimer: return FeatureReply(dword0: values.keepAliveTimeout)
    case .timestamp:
      // The default of a clock is the clock as if never set.
      let clock = select == .current ? timestamp : TimestampFeature(resetAt: timestamp.resetAt)
      return FeatureReply(dword0: 0, data: clock.encode(now: now))
    case .hostBehaviorSupport: return FeatureReply(dword0: 0, data: values.hostBehavior.encode())
    default: return nil
    }
  }

  /// Set Features. Returns CQE Dword 0 (only Number of Queues reports one), or
  /// nil for Invalid Field. `data` is the transferred buffer for features that
  /// take one (timestamp, host behavior support).
  public mutating func set(
    _ id: FeatureID, cdw11: UInt32, data: [UInt8] = [], now: UInt64 = 0
  ) -> UInt32? {
    guard isSupported(id) else { return nil }
    switch id {
    case .arbitration: current.arbitration = cdw11
    case .powerManagement:
      // Only states up to NPSS exist.
      guard cdw11 & 0x1F <= UInt32(limits.npss) else { return nil }
      current.powerManagement = cdw11 & 0xFF
    case .temperatureThreshold:
      guard current.temperature.set(cdw11: cdw11) else { return nil }
    case .errorRecovery:
      let dulbe: UInt32 = 1 << 16
      guard cdw11 & dulbe == 0 || limits.deallocatedErrorSupported else { return nil }
      current.errorRecovery = cdw11 & (0xFFFF | dulbe)
    case .volatileWriteCache: current.volatileWriteCacheEnabled = cdw11 & 1 != 0
    case .numberOfQueues: return current.queues.set(cdw11: cdw11)
    case .interruptCoalescing: current.interruptCoalescing = cdw11 & 0xFFFF
    case .interruptVectorConfiguration:
      guard current.interruptVectors.set(cdw11: cdw11) else { return nil }
    case .writeAtomicityNormal: current.writeAtomicityNormal = cdw11 & 1
    case .asynchronousEventConfiguration:
      current.asyncEventConfiguration = cdw11 & limits.asyncEventMask
    case .keepAliveTimer: current.keepAliveTimeout = roundedKeepAlive(cdw11)
    case .timestamp:
      guard timestamp.set(data: data, now: now) else { return nil }
    case .hostBehaviorSupport:
      guard let behavior = HostBehaviorSupport(data: data) else { return nil }
      current.hostBehavior = behavior
    default: return nil
    }
    return 0
  }

  /// KATO is rounded up to the KAS granularity (100 ms units), saturating.
  private func roundedKeepAlive(_ kato: UInt32) -> UInt32 {
    let granule = UInt32(limits.keepAliveGranularity) * 100
    guard granule > 0 else { return kato }
    let (q, r) = kato.quotientAndRemainder(dividingBy: granule)
    let rounded = r == 0 ? q : q + 1
    let (product, overflow) = rounded.multipliedReportingOverflow(by: granule)
    return overflow ? UInt32.max : product
  }
}
