/// Short names for the generated wire types of predict.proto (package com.alibaba.pairec.processor).
public typealias PBRequest = Com_Alibaba_Pairec_Processor_PBRequest
public typealias PBResponse = Com_Alibaba_Pairec_Processor_PBResponse
public typealias PBFeature = Com_Alibaba_Pairec_Processor_PBFeature
public typealias PBContextFeatures = Com_Alibaba_Pairec_Processor_ContextFeatures
public typealias PBResults = Com_Alibaba_Pairec_Processor_Results
public typealias PBStatusCode = Com_Alibaba_Pairec_Processor_StatusCode
