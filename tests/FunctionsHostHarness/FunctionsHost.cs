using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Azure.Functions.Worker.Grpc.Messages;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FunctionsHostHarness;

/// <summary>How to start the app as a worker.</summary>
public sealed record HostOptions
{
    /// <summary>The app's build output: the worker assembly, <c>host.json</c>, <c>functions.metadata</c>.</summary>
    public required string AppDirectory { get; init; }

    /// <summary>The worker assembly in <see cref="AppDirectory"/>, e.g. <c>DeployFunctions.dll</c>.</summary>
    public required string WorkerAssembly { get; init; }

    /// <summary>App settings, given to the worker as environment variables, as the host does.</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();

    /// <summary>The key <c>Function</c>-level HTTP functions require (<c>?code=</c> or <c>x-functions-key</c>).</summary>
    public string FunctionKey { get; init; } = "harness-function-key";

    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Runs the queue triggers on the WebJobs queue listener (off: HTTP only, e.g. for a cold-start measurement).</summary>
    public bool QueueTriggers { get; init; } = true;

    /// <summary>
    /// Applied after the app's <c>host.json</c>: lets a test shorten waits that would make it slow (e.g. the 30 s
    /// visibility timeout before a failed message is tried again). Null: <c>host.json</c> as it is.
    /// </summary>
    public Action<Microsoft.Azure.WebJobs.Host.QueuesOptions>? AdjustQueues { get; init; }
}

/// <summary>A function the worker indexed, with its bindings (the worker's raw binding JSON).</summary>
public sealed record HostedFunction(string Name, string FunctionId, IReadOnlyList<JsonObject> Bindings)
{
    public JsonObject Trigger => Bindings.Single(b => ((string?)b["type"])?.EndsWith("Trigger", StringComparison.OrdinalIgnoreCase) == true);

    public string TriggerType => (string)Trigger["type"]!;
}

/// <summary>The worker did not start; the message carries what it printed.</summary>
public sealed class WorkerStartException : Exception
{
    public WorkerStartException()
    {
    }

    public WorkerStartException(string message)
        : base(message)
    {
    }

    public WorkerStartException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// A stand-in for the Azure Functions host, built from registry packages for tests and benchmarks: starts the app as
/// a real isolated worker process (<c>dotnet App.dll</c> with both styles of the host's arguments and the app settings
/// as environment variables), serves the gRPC <c>FunctionRpc</c> the worker connects to, runs the handshake (start
/// stream, init, the worker's own function index, one load per function), and serves HTTP functions the way the host
/// does with the ASP.NET Core integration: the request is forwarded to the URI the worker advertised (capability
/// <c>HttpUri</c>) with <c>x-ms-invocation-id</c>, and an invocation with an empty <c>RpcHttp</c> is sent alongside.
/// Function-level HTTP functions require the function key, as in Azure.
/// </summary>
public sealed class FunctionsHost : IAsyncDisposable
{
    /// <summary>
    /// Every capability the worker may advertise that this harness knows what to do with. A worker that advertises one
    /// not listed here would be served by guesswork, so a test compares them.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> HandledCapabilities = new Dictionary<string, string>
    {
        ["HttpUri"] = "HTTP requests are forwarded to this URI",
        ["RpcHttpBodyOnly"] = "the harness sends an empty RpcHttp (the body travels through the forwarded request)",
        ["RawHttpBodyBytes"] = "no RpcHttp body is sent at all",
        ["RpcHttpTriggerMetadataRemoved"] = "no HTTP trigger metadata is sent",
        ["UseNullableValueDictionaryForHttp"] = "no RpcHttp dictionaries are sent",
        ["TypedDataCollection"] = "no collections are sent",
        ["WorkerStatus"] = "the harness never asks for the worker's status",
        ["HandlesWorkerTerminateMessage"] = "the harness stops the worker process instead",
        ["HandlesInvocationCancelMessage"] = "the harness never cancels an invocation",
        ["IncludeEmptyEntriesInMessagePayload"] = "empty entries are never sent",
        ["EnableUserCodeException"] = "failures are reported as they come",
    };

    private readonly WebApplication web;
    private readonly WorkerChannel channel;
    private readonly HostOptions options;
    private readonly HttpClient proxy = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { Timeout = Timeout.InfiniteTimeSpan };
    private readonly ConcurrentQueue<string> output = new();
    private Process? worker;
    private Uri? workerHttp;
    private Microsoft.Extensions.Hosting.IHost? jobs;
    private readonly Dictionary<string, HostedFunction> functions = new(StringComparer.Ordinal);

    private FunctionsHost(WebApplication web, WorkerChannel channel, HostOptions options)
    {
        this.web = web;
        this.channel = channel;
        this.options = options;
    }

    /// <summary>Where HTTP functions are served: <c>{BaseAddress}api/&lt;route&gt;</c>.</summary>
    public Uri BaseAddress { get; private set; } = new("http://127.0.0.1/");

    public IReadOnlyCollection<HostedFunction> Functions => functions.Values;

    /// <summary>What the worker advertised in its init answer.</summary>
    public IReadOnlyDictionary<string, string> WorkerCapabilities { get; private set; } = new Dictionary<string, string>();

    /// <summary>From process start to every function loaded.</summary>
    public TimeSpan StartedIn { get; private set; }

    /// <summary>What the worker process printed and logged over the channel.</summary>
    public string WorkerOutput => string.Join('\n', output.Concat(channel.Logs));

    public static async Task<FunctionsHost> StartAsync(HostOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddGrpc(grpc => grpc.MaxReceiveMessageSize = null);
        builder.Services.AddSingleton<WorkerChannel>();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2); // the worker's gRPC
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http1); // the front door
        });
        var web = builder.Build();
        var host = new FunctionsHost(web, web.Services.GetRequiredService<WorkerChannel>(), options);
        web.MapGrpcService<WorkerChannel>();
        web.Map("/api/{**route}", host.ServeHttpAsync);
        await web.StartAsync(cancellationToken);
        try
        {
            await host.StartWorkerAsync(cancellationToken);
            return host;
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    /// <summary>What the queue listener handed to the worker.</summary>
    public QueueDispatcher? Queues { get; private set; }

    /// <summary>The timer functions' ticks, scheduled by the WebJobs timer extension from the app's schedules.</summary>
    public TimerDispatcher? Timers { get; private set; }

    public async ValueTask DisposeAsync()
    {
        if (jobs is not null)
        {
            await jobs.StopAsync(TimeSpan.FromSeconds(5));

            // An invocation still waiting for the worker would finish after the host's logger factory is disposed, and its
            // log line would crash the process: end those now and let the host log them while it still can.
            channel.FailPending();
            for (var waited = 0; (Queues?.InFlight ?? 0) > 0 && waited < 100; waited++)
            {
                await Task.Delay(50);
            }

            await Task.Delay(200);
            jobs.Dispose();
        }

        channel.Close();
        if (worker is { HasExited: false })
        {
            worker.Kill(entireProcessTree: true);
            await worker.WaitForExitAsync();
        }

        worker?.Dispose();
        proxy.Dispose();
        await web.DisposeAsync();
    }

    /// <summary>The value of a binding setting as the host resolves it: <c>%Name%</c> is the app setting <c>Name</c>.</summary>
    public string Resolve(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return value.Length > 2 && value[0] == '%' && value[^1] == '%'
            ? options.Settings.TryGetValue(value[1..^1], out var setting)
                ? setting
                : throw new InvalidOperationException($"Binding expression {value} names no app setting.")
            : value;
    }

    private async Task StartWorkerAsync(CancellationToken cancellationToken)
    {
        var addresses = web.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Select(a => new Uri(a)).ToList();
        var grpc = addresses[0];
        BaseAddress = new Uri(addresses[1], "/");
        var clock = Stopwatch.StartNew();
        var workerId = Guid.NewGuid().ToString();
        var requestId = Guid.NewGuid().ToString();
        var port = grpc.Port.ToString(CultureInfo.InvariantCulture);
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = options.AppDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
                 {
                     Path.Combine(options.AppDirectory, options.WorkerAssembly),
                     "--host", "127.0.0.1", "--port", port, "--workerId", workerId, "--requestId", requestId,
                     "--grpcMaxMessageLength", int.MaxValue.ToString(CultureInfo.InvariantCulture),
                     "--functions-uri", $"http://127.0.0.1:{port}/", "--functions-worker-id", workerId,
                     "--functions-request-id", requestId,
                     "--functions-grpc-max-message-length", int.MaxValue.ToString(CultureInfo.InvariantCulture),
                 })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["FUNCTIONS_WORKER_RUNTIME"] = "dotnet-isolated";
        start.Environment["FUNCTIONS_WORKER_DIRECTORY"] = options.AppDirectory;
        start.Environment["FUNCTIONS_APPLICATION_DIRECTORY"] = options.AppDirectory;
        start.Environment["AzureWebJobsScriptRoot"] = options.AppDirectory;
        foreach (var (name, value) in options.Settings)
        {
            start.Environment[name] = value;
        }

        worker = Process.Start(start) ?? throw new WorkerStartException("dotnet did not start.");
        worker.OutputDataReceived += (_, line) => Keep(line.Data);
        worker.ErrorDataReceived += (_, line) => Keep(line.Data);
        worker.BeginOutputReadLine();
        worker.BeginErrorReadLine();

        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(options.StartTimeout);
        var exited = worker.WaitForExitAsync(budget.Token);
        await Until(channel.Started.Task, exited, "open its gRPC stream", budget.Token);

        var init = new StreamingMessage
        {
            RequestId = requestId,
            WorkerInitRequest = new WorkerInitRequest
            {
                HostVersion = "4.1040.300.0",
                WorkerDirectory = options.AppDirectory,
                FunctionAppDirectory = options.AppDirectory,
            },
        };
        var initialized = (await Until(channel.RequestAsync("init", init, budget.Token), exited, "answer the init request", budget.Token)).WorkerInitResponse;
        Check(initialized.Result, "init");
        WorkerCapabilities = new Dictionary<string, string>(initialized.Capabilities);
        workerHttp = initialized.Capabilities.TryGetValue("HttpUri", out var http) ? new Uri(http) : null;

        var metadataRequest = new StreamingMessage
        {
            RequestId = requestId,
            FunctionsMetadataRequest = new FunctionsMetadataRequest { FunctionAppDirectory = options.AppDirectory },
        };
        var metadata = (await Until(channel.RequestAsync("metadata", metadataRequest, budget.Token), exited, "index its functions", budget.Token))
            .FunctionMetadataResponse;
        Check(metadata.Result, "function indexing");
        if (metadata.UseDefaultMetadataIndexing || metadata.FunctionMetadataResults.Count == 0)
        {
            throw new WorkerStartException("The worker asked the host to index its functions; this harness serves worker-indexed apps only.");
        }

        foreach (var function in metadata.FunctionMetadataResults)
        {
            var load = new StreamingMessage
            {
                RequestId = requestId,
                FunctionLoadRequest = new FunctionLoadRequest { FunctionId = function.FunctionId, Metadata = function },
            };
            var loaded = (await Until(channel.RequestAsync("load:" + function.FunctionId, load, budget.Token), exited,
                $"load {function.Name}", budget.Token)).FunctionLoadResponse;
            Check(loaded.Result, $"loading {function.Name}");
            functions[function.Name] = new HostedFunction(function.Name, function.FunctionId,
                [.. function.RawBindings.Select(raw => JsonNode.Parse(raw)!.AsObject())]);
        }

        // The worker advertises its HTTP URI before its server listens; the host waits for it, and so does the harness.
        if (workerHttp is not null)
        {
            await Until(ListeningAsync(workerHttp, budget.Token), exited, $"listen on {workerHttp}", budget.Token);
        }

        StartedIn = clock.Elapsed;
        if (options.QueueTriggers)
        {
            await StartQueueListenerAsync(cancellationToken);
        }
    }

    private async Task StartQueueListenerAsync(CancellationToken cancellationToken)
    {
        var queueFunctions = functions.Values.Where(f => f.TriggerType.Equals("queueTrigger", StringComparison.OrdinalIgnoreCase))
            .OrderBy(f => f.Name, StringComparer.Ordinal).ToList();
        if (queueFunctions.Count > QueueSlots.Count)
        {
            throw new WorkerStartException($"The worker has {queueFunctions.Count} queue triggers; the harness has {QueueSlots.Count} slots.");
        }

        Queues = new QueueDispatcher(channel);
        var settings = options.Settings.ToDictionary(s => s.Key.Replace("__", ":", StringComparison.Ordinal), s => (string?)s.Value);
        for (var slot = 0; slot < QueueSlots.Count; slot++)
        {
            var function = slot < queueFunctions.Count ? queueFunctions[slot] : null;
            if (function is not null)
            {
                Queues.Assign(slot, function);
            }

            settings[QueueSlots.QueueSetting(slot)] = function is null ? $"harness-unused-{slot}" : Resolve((string)function.Trigger["queueName"]!);
            settings[QueueSlots.DisabledSetting(slot)] = function is null ? "true" : "false";
        }

        var timerFunctions = functions.Values.Where(f => f.TriggerType.Equals("timerTrigger", StringComparison.OrdinalIgnoreCase))
            .OrderBy(f => f.Name, StringComparer.Ordinal).ToList();
        if (timerFunctions.Count > TimerSlots.Count)
        {
            throw new WorkerStartException($"The worker has {timerFunctions.Count} timer triggers; the harness has {TimerSlots.Count} slots.");
        }

        Timers = new TimerDispatcher(channel);
        for (var slot = 0; slot < TimerSlots.Count; slot++)
        {
            var function = slot < timerFunctions.Count ? timerFunctions[slot] : null;
            if (function is not null)
            {
                Timers.Assign(slot, function);
            }

            settings[TimerSlots.ScheduleSetting(slot)] = function is null ? "0 0 0 1 1 *" : Resolve((string)function.Trigger["schedule"]!);
            settings[TimerSlots.DisabledSetting(slot)] = function is null ? "true" : "false";
        }

        var dispatcher = Queues;
        var timers = Timers;
        jobs = new Microsoft.Extensions.Hosting.HostBuilder()
            .ConfigureAppConfiguration(configuration => configuration.AddInMemoryCollection(settings))
            .ConfigureWebJobs(webJobs => webJobs
                .AddAzureStorageQueues(queues =>
                {
                    HostJsonQueues.Apply(Path.Combine(options.AppDirectory, "host.json"), queues);
                    options.AdjustQueues?.Invoke(queues);
                })
                .AddTimers())
            .ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning))
            .ConfigureServices(services =>
            {
                services.AddSingleton<Microsoft.Azure.WebJobs.ITypeLocator, SlotTypeLocator>();
                services.AddSingleton(dispatcher);
                services.AddSingleton(timers);
                services.AddSingleton<Microsoft.Azure.WebJobs.Extensions.Timers.ScheduleMonitor, NoScheduleMonitor>();
            })
            .Build();
        try
        {
            await jobs.StartAsync(cancellationToken);
        }
        catch
        {
            // Not started: nothing to stop on dispose, and the start's own error is what the caller should see.
            jobs.Dispose();
            jobs = null;
            throw;
        }
    }

    private static async Task<bool> ListeningAsync(Uri uri, CancellationToken cancellationToken)
    {
        while (true)
        {
            using var client = new System.Net.Sockets.TcpClient();
            try
            {
                await client.ConnectAsync(uri.Host == "localhost" ? "127.0.0.1" : uri.Host, uri.Port, cancellationToken);
                return true;
            }
            catch (System.Net.Sockets.SocketException)
            {
                await Task.Delay(10, cancellationToken);
            }
        }
    }

    private async Task<T> Until<T>(Task<T> step, Task exited, string what, CancellationToken cancellationToken)
    {
        try
        {
            var first = await Task.WhenAny(step, exited);
            if (first == step)
            {
                return await step;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw new WorkerStartException($"The worker did not {what} within {options.StartTimeout}. It printed:\n{WorkerOutput}");
        }

        await Task.Delay(200, CancellationToken.None); // the last lines of output
        throw new WorkerStartException($"The worker exited (code {worker!.ExitCode}) before it would {what}. It printed:\n{WorkerOutput}");
    }

    private void Check(StatusResult result, string step)
    {
        if (result.Status != StatusResult.Types.Status.Success)
        {
            throw new WorkerStartException($"The worker failed {step}: {result.Exception?.Message ?? result.Result}\n{WorkerOutput}");
        }
    }

    private void Keep(string? line)
    {
        if (line is not null)
        {
            output.Enqueue(line);
        }
    }

    /// <summary>One HTTP request to a function, served as the host serves it with the ASP.NET Core integration.</summary>
    private async Task ServeHttpAsync(HttpContext context)
    {
        try
        {
            await ForwardAsync(context);
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException or InvalidOperationException)
        {
            output.Enqueue($"harness: {context.Request.Path} could not be forwarded: {exception}");
            if (!context.Response.HasStarted)
            {
                context.Response.StatusCode = 502;
            }
        }
    }

    /// <summary>
    /// The host's route templates, as far as the app uses them: literal segments (case-insensitive) and <c>{name}</c> or
    /// <c>{name:constraint}</c> segments matching any one segment; a <c>{*rest}</c> or <c>{**rest}</c> segment the rest.
    /// </summary>
    public static bool RouteMatches(string template, string route)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(route);
        var expected = template.Trim('/').Split('/');
        var actual = route.Trim('/').Split('/');
        for (var i = 0; i < expected.Length; i++)
        {
            var segment = expected[i];
            if (segment.StartsWith("{*", StringComparison.Ordinal))
            {
                return true;
            }

            if (i >= actual.Length)
            {
                return false;
            }

            var parameter = segment.StartsWith('{') && segment.EndsWith('}');
            if (parameter ? actual[i].Length == 0 : !string.Equals(segment, actual[i], StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }

        return expected.Length == actual.Length;
    }

    private async Task ForwardAsync(HttpContext context)
    {
        var route = (string?)context.GetRouteValue("route") ?? "";
        var function = functions.Values.FirstOrDefault(f => f.TriggerType.Equals("httpTrigger", StringComparison.OrdinalIgnoreCase) &&
                                                            RouteMatches((string?)f.Trigger["route"] ?? f.Name, route));
        if (function is null)
        {
            context.Response.StatusCode = 404;
            return;
        }

        var methods = function.Trigger["methods"]?.AsArray().Select(m => (string?)m).ToList();
        if (methods is { Count: > 0 } && !methods.Contains(context.Request.Method, StringComparer.OrdinalIgnoreCase))
        {
            context.Response.StatusCode = 405;
            return;
        }

        if (!string.Equals((string?)function.Trigger["authLevel"], "Anonymous", StringComparison.OrdinalIgnoreCase) &&
            context.Request.Query["code"] != options.FunctionKey && context.Request.Headers["x-functions-key"] != options.FunctionKey)
        {
            context.Response.StatusCode = 401;
            return;
        }

        if (workerHttp is null)
        {
            throw new InvalidOperationException("The worker advertised no HttpUri: it does not use the ASP.NET Core integration.");
        }

        var invocationId = Guid.NewGuid().ToString();
        var invocation = new StreamingMessage
        {
            InvocationRequest = new InvocationRequest
            {
                InvocationId = invocationId,
                FunctionId = function.FunctionId,
                // The host always sends a W3C trace context; the worker reads it unconditionally.
                TraceContext = new RpcTraceContext { TraceParent = $"00-{Guid.NewGuid():N}-{Guid.NewGuid().ToString("N")[..16]}-01", TraceState = "" },
            },
        };
        invocation.InvocationRequest.InputData.Add(new ParameterBinding
        {
            Name = (string)function.Trigger["name"]!,
            Data = new TypedData { Http = new RpcHttp() },
        });
        var answered = channel.RequestAsync("invocation:" + invocationId, invocation, context.RequestAborted);

        using var forward = new HttpRequestMessage(new HttpMethod(context.Request.Method),
            new Uri(workerHttp, context.Request.Path + context.Request.QueryString));
        forward.Content = new StreamContent(context.Request.Body);
        foreach (var (name, values) in context.Request.Headers)
        {
            if (!forward.Headers.TryAddWithoutValidation(name, values.ToArray()))
            {
                forward.Content.Headers.TryAddWithoutValidation(name, values.ToArray());
            }
        }

        forward.Headers.Host = null;
        forward.Headers.TryAddWithoutValidation("x-ms-invocation-id", invocationId);
        using var response = await proxy.SendAsync(forward, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        context.Response.StatusCode = (int)response.StatusCode;
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            if (!string.Equals(name, "Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                context.Response.Headers[name] = values.ToArray();
            }
        }

        await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
        var result = (await answered).InvocationResponse.Result;
        if (result.Status != StatusResult.Types.Status.Success)
        {
            output.Enqueue($"invocation {invocationId} of {function.Name} failed: {result.Exception?.Message}");
        }
    }
}
