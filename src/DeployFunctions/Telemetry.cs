using Azure.Identity;
using Microsoft.ApplicationInsights.Extensibility;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DeployFunctions;

/// <summary>
/// The worker's own Application Insights: the app's log lines go to it with their named values as custom dimensions
/// (<c>customDimensions.DeliveryId</c>, <c>DeploymentId</c>, ...). Without it the host forwards only the message text.
/// On only when <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c> is set (Azure); local runs pay nothing for it.
/// </summary>
public static class Telemetry
{
    public const string ConnectionStringSetting = "APPLICATIONINSIGHTS_CONNECTION_STRING";
    public const string AuthenticationSetting = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING";

    /// <summary>The logger provider whose default rule would drop everything below Warning.</summary>
    private const string LoggerProvider = "Microsoft.Extensions.Logging.ApplicationInsights.ApplicationInsightsLoggerProvider";

    public static IServiceCollection AddDeployFunctionsTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (string.IsNullOrWhiteSpace(configuration[ConnectionStringSetting]))
        {
            return services;
        }

        services.AddApplicationInsightsTelemetryWorkerService();
        services.ConfigureFunctionsApplicationInsights();
        services.Configure<LoggerFilterOptions>(options =>
        {
            // Information and above reach Application Insights (host.json's logLevel still applies).
            if (options.Rules.FirstOrDefault(rule => rule.ProviderName == LoggerProvider) is { } warningsOnly)
            {
                options.Rules.Remove(warningsOnly);
            }
        });

        // Application Insights accepts only Entra-authenticated telemetry (local auth is off): sign in as the app's identity.
        if (ManagedIdentityClientId(configuration[AuthenticationSetting]) is { } clientId)
        {
            services.Configure<TelemetryConfiguration>(telemetry =>
                telemetry.SetAzureTokenCredential(new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId))));
        }

        return services;
    }

    /// <summary>The <c>ClientId</c> of <c>Authorization=AAD;ClientId=...</c>, the host's own format for the setting.</summary>
    internal static string? ManagedIdentityClientId(string? authentication)
    {
        var parts = (authentication ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(part => part.Split('=', 2, StringSplitOptions.TrimEntries))
            .Where(pair => pair.Length == 2)
            .ToDictionary(pair => pair[0], pair => pair[1], StringComparer.OrdinalIgnoreCase);
        return parts.GetValueOrDefault("Authorization") is { } kind && kind.Equals("AAD", StringComparison.OrdinalIgnoreCase)
            ? parts.GetValueOrDefault("ClientId")
            : null;
    }
}
