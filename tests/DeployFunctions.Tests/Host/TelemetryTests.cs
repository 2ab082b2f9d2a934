using System.Collections.Concurrent;
using Microsoft.ApplicationInsights.Channel;
using Microsoft.ApplicationInsights.DataContracts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DeployFunctions.Tests.Host;

/// <summary>
/// The worker's Application Insights, as Program composes it: what the README's query
/// <c>traces | where customDimensions.DeliveryId == "..."</c> needs is that each log line arrives as a trace with its
/// named values as properties. Telemetry is captured by a channel instead of being sent.
/// </summary>
public sealed class TelemetryTests
{
    private sealed class CapturingChannel : ITelemetryChannel
    {
        public ConcurrentQueue<ITelemetry> Sent { get; } = new();
        public bool? DeveloperMode { get; set; }
        public string EndpointAddress { get; set; } = "";

        public void Send(ITelemetry item) => Sent.Enqueue(item);

        public void Flush()
        {
        }

        public void Dispose()
        {
        }
    }

    private static ServiceProvider Services(CapturingChannel channel, Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddSingleton<ITelemetryChannel>(channel);
        services.AddDeployFunctionsTelemetry(configuration);
        return services.BuildServiceProvider();
    }

    [Fact]
    public async Task A_log_line_reaches_Application_Insights_as_a_trace_whose_named_values_are_custom_dimensions()
    {
        var channel = new CapturingChannel();
        await using var services = Services(channel, new()
        {
            [Telemetry.ConnectionStringSetting] = "InstrumentationKey=00000000-0000-0000-0000-000000000001;IngestionEndpoint=http://127.0.0.1:9/",
            [Telemetry.AuthenticationSetting] = "ClientId=11111111-2222-3333-4444-555555555555;Authorization=AAD",
        });
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("DeployFunctions.Queues.DeliveryWorker");

        logger.LogInformation("{Queue}: delivery {DeliveryId} ({Repository}) done: {Reason}", "PullRequests", "72d3162e-cc78", "octo/app", "created");
        services.GetRequiredService<Microsoft.ApplicationInsights.TelemetryClient>().Flush();

        var trace = Assert.Single(channel.Sent.OfType<TraceTelemetry>());
        Assert.Equal("72d3162e-cc78", trace.Properties["DeliveryId"]);
        Assert.Equal("octo/app", trace.Properties["Repository"]);
    }

    [Fact]
    public async Task Without_a_connection_string_nothing_of_Application_Insights_is_registered()
    {
        await using var services = Services(new CapturingChannel(), []);

        Assert.Null(services.GetService<Microsoft.ApplicationInsights.TelemetryClient>());
    }

    [Theory]
    [InlineData("ClientId=abc;Authorization=AAD", "abc")]
    [InlineData("Authorization=AAD; ClientId=abc", "abc")]
    [InlineData("Authorization=Other;ClientId=abc", null)]
    [InlineData(null, null)]
    public void The_identity_for_Entra_authenticated_telemetry_is_read_from_the_hosts_setting(string? setting, string? clientId) =>
        Assert.Equal(clientId, Telemetry.ManagedIdentityClientId(setting));
}
